import type { Clock } from '../clock';

/**
 * A TCP address: an IP literal (IPv4 dotted quad or IPv6 without brackets) and a port.
 * Resolvers produce literal IPs; host names are resolved before they reach a policy.
 */
export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

/** A Unix domain socket address (an absolute or relative file system path). */
export interface UnixAddress {
  readonly path: string;
}

/** One network address a subchannel can connect to. */
export type Address = TcpAddress | UnixAddress;

/**
 * An endpoint: one server, reachable at one or more addresses (gRFC A61's "endpoint"), with
 * attributes a resolver attaches (for instance the metadata an etcd record carries).
 */
export interface Endpoint {
  readonly addresses: readonly Address[];
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/**
 * A parsed target URI per gRPC's naming doc (`doc/naming.md`): `scheme://authority/path`.
 * For `dns:///orders.internal:50051`, scheme is `dns`, authority is empty and path is
 * `orders.internal:50051`. `raw` is the string the user passed.
 */
export interface Target {
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly raw: string;
}

/** What a resolver reports: a new endpoint list and, if the resolver carries one, a service config. */
export interface ResolverUpdate {
  readonly endpoints: readonly Endpoint[];
  /**
   * The raw service config JSON (an object or a JSON string) the resolver found, e.g. from DNS TXT
   * records (gRFC A2). `undefined`: this resolver does not supply configs (the channel's own
   * `serviceConfig` option applies). `null`: the resolver looked and there is none.
   */
  readonly serviceConfig?: unknown;
  /**
   * Set when the resolver found a service config but could not read it. The channel keeps its
   * last good config (gRFC A21) and reports the error.
   */
  readonly serviceConfigError?: Error;
}

/** Where a resolver sends its results. Both methods may be called any number of times. */
export interface ResolverListener {
  /**
   * A successful resolution. The channel diffs the endpoints against the last list. An update of the
   * wrong shape (`endpoints` not an array, an endpoint without an `addresses` array) is treated as a
   * failed resolution: the last good list stays and an `error` event reports it.
   */
  onUpdate(update: ResolverUpdate): void;
  /**
   * A failed resolution. The channel keeps the last good endpoint list; when there has never been
   * one, calls that are not wait-for-ready fail with UNAVAILABLE naming this error.
   */
  onError(error: Error): void;
}

/** A running resolver for one channel's target. */
export interface Resolver {
  /**
   * Ask for a fresh resolution: the channel calls this when it leaves IDLE and when a connection is
   * lost. Resolvers apply their own rate limit, so calling it often never storms the name service.
   */
  requestResolution(): void;
  /** Stop all timers, watches and sockets. No listener call happens after `close()` returns. */
  close(): void;
}

/** What a resolver gets from the channel that creates it. */
export interface ResolverContext {
  /** The clock all the resolver's timers must use (fake in unit tests). */
  readonly clock: Clock;
  /** Periodic re-resolution interval in ms for resolvers that poll (DNS). */
  readonly refreshIntervalMs: number;
  /** Minimum time in ms between two resolutions, however often re-resolution is requested. */
  readonly minResolutionIntervalMs: number;
  /** Whether the resolver should look up a service config (DNS TXT per gRFC A2). */
  readonly serviceConfigLookup: boolean;
  /** Uniform random numbers in [0, 1) (e.g. gRFC A2's percentage draw); the channel's `options.random`. Default `Math.random`. */
  readonly random?: () => number;
  /** Resolver-specific options from `SwitchyardChannelOptions.resolverOptions`, keyed by scheme. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * A resolver implementation, registered by URI scheme with `registerResolver`.
 *
 * @example
 * ```ts
 * registerResolver({
 *   scheme: 'static',
 *   defaultAuthority: (target) => target.path,
 *   create(target, listener) {
 *     const addresses = [{ host: '127.0.0.1', port: Number(target.path) }];
 *     return {
 *       requestResolution: () => listener.onUpdate({ endpoints: [{ addresses }] }),
 *       close() {},
 *     };
 *   },
 * });
 * ```
 */
export interface ResolverFactory {
  /** The URI scheme, lower case, e.g. `dns`. */
  readonly scheme: string;
  /**
   * Validate the target and create a resolver; must not do I/O before `requestResolution()`.
   * @throws ConfigError (path `target`) if the target is malformed for this scheme.
   */
  create(target: Target, listener: ResolverListener, context: ResolverContext): Resolver;
  /** The `:authority` (and TLS name) for calls on this target, e.g. `orders.internal:50051`. */
  defaultAuthority(target: Target): string;
}
