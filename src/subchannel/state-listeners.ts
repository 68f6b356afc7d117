import type { ConnectivityState, Subchannel, SubchannelStateListener } from '../picker/types';

/**
 * Tell every listener about a subchannel's state change. A listener that throws must not leave the
 * subchannel's state machine half-updated: the others still run, and its error is rethrown from a
 * microtask so it is not lost. Listeners added or removed during the loop take effect next time.
 */
export function notifyStateListeners(
  listeners: ReadonlySet<SubchannelStateListener>,
  subchannel: Subchannel,
  previous: ConnectivityState,
  next: ConnectivityState,
  error: string | undefined,
): void {
  for (const listener of [...listeners]) {
    try {
      listener(subchannel, previous, next, error);
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }
}
