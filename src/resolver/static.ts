import { deferListenerCall } from './listener-call';
import type { Endpoint, Resolver, ResolverListener } from './types';

/**
 * A resolver whose answer never changes (`ipv4:`, `ipv6:`, `unix:`, `dns:` with an IP literal).
 *
 * Each `requestResolution()` reports the list once more, in a promise job rather than synchronously,
 * so a channel that asks for resolution while handling an update is never re-entered; requests made
 * before that job runs are coalesced into one report. No timers, no I/O.
 *
 * @param listener receives `onUpdate({ endpoints })` (no service config: `serviceConfig` undefined).
 * @param endpoints the fixed list, already validated and de-duplicated.
 * @returns a resolver; after `close()` no report is delivered, even one already queued.
 */
export function createStaticResolver(listener: ResolverListener, endpoints: readonly Endpoint[]): Resolver {
  let closed = false;
  let queued = false;
  return {
    requestResolution() {
      if (closed || queued) return;
      queued = true;
      deferListenerCall(() => {
        queued = false;
        if (!closed) listener.onUpdate({ endpoints });
      });
    },
    close() {
      closed = true;
    },
  };
}
