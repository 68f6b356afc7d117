import type { DemoBackend } from './backends';
import { ipv4Target } from './channel';

/**
 * How the demo client finds the local backends, and what happens to that when one is crashed and
 * restarted. Each hook returns a line for the event log, or undefined when there is nothing to say.
 */
export interface Discovery {
  /** The channel target, e.g. `ipv4:127.0.0.1:5001,…` or `etcd:///switchyard.demo.Echo`. */
  readonly target: string;
  /** `SwitchyardChannelOptions.resolverOptions` the target needs, if any. */
  readonly resolverOptions: Record<string, unknown> | undefined;
  /** Called right after `backend` was SIGKILLed. Never rejects. */
  left(backend: DemoBackend): Promise<string | undefined>;
  /** Called right after `backend` serves again. Never rejects. */
  joined(backend: DemoBackend): Promise<string | undefined>;
  /** Releases what the discovery owns (registrations, etcd). Idempotent; never rejects. */
  close(): Promise<void>;
}

/** A fixed `ipv4:` address list: nothing changes when a backend dies; the channel's connections notice. */
export function ipv4Discovery(backends: readonly DemoBackend[]): Discovery {
  return {
    target: ipv4Target(backends.map((b) => b.process.address)),
    resolverOptions: undefined,
    left: async () => undefined,
    joined: async () => undefined,
    close: async () => undefined,
  };
}

/** A discovery for a target the user named (`--target`): nothing to manage. */
export function givenTarget(target: string): Discovery {
  return { ...ipv4Discovery([]), target };
}

/**
 * Follows a channel's `resolution` events and describes membership changes after the first one, e.g.
 * `resolver: 127.0.0.1:40001 (b1) left`. `names` maps an address to a backend id for the message.
 * @returns the listener to pass to `channel.events.on('resolution', …)`.
 */
export function membershipLogger(
  names: ReadonlyMap<string, string>,
  event: (text: string) => void,
): (update: { readonly addresses: readonly string[] }) => void {
  let known: Set<string> | undefined;
  return ({ addresses }) => {
    const next = new Set(addresses);
    if (known !== undefined) {
      const label = (a: string): string => (names.has(a) ? `${a} (${names.get(a)})` : a);
      for (const a of known) if (!next.has(a)) event(`resolver: ${label(a)} left`);
      for (const a of next) if (!known.has(a)) event(`resolver: ${label(a)} joined`);
    }
    known = next;
  };
}
