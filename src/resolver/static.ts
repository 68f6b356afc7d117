import { deferListenerCall } from './listener-call';
import type { Endpoint, Resolver, ResolverListener } from './types';

/**
 * A resolver whose answer never changes (`ipv4:`, `ipv6:`, `unix:`, `dns:` with an IP literal).
 *
 * The first `requestResolution()` reports the list, in a promise job rather than synchronously, so a
 * channel that asks for resolution while handling an update is never re-entered. Later requests do
 * nothing: the answer cannot change, and re-reporting it on every request would let a policy that
 * re-resolves on failure spin without ever waiting (the channel keeps the last list anyway).
 * No timers, no I/O.
 *
 * @param listener receives `onUpdate({ endpoints })` (no service config: `serviceConfig` undefined).
 * @param endpoints the fixed list, already validated and de-duplicated.
 * @returns a resolver; after `close()` no report is delivered, even one already queued.
 */
export function createStaticResolver(listener: ResolverListener, endpoints: readonly Endpoint[]): Resolver {
  let closed = false;
  let requested = false;
  return {
    requestResolution() {
      if (closed || requested) return;
      requested = true;
      deferListenerCall(() => {
        if (!closed) listener.onUpdate({ endpoints });
      });
    },
    close() {
      closed = true;
    },
  };
}
