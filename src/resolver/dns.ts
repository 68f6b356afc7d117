import { isIPv6 } from 'node:net';
import type { TimerHandle } from '../clock';
import { ConfigError } from '../errors';
import { type DnsQueries, type DnsQueriesFactory, systemDnsQueries } from './dns-queries';
import { endpointsFromAddresses } from './endpoint-list';
import { callListener } from './listener-call';
import { DEFAULT_PORT, isHostName, isHostPortError, isIpLiteral, splitHostPort } from './host-port';
import { createResolutionScheduler } from './resolution-scheduler';
import { createStaticResolver } from './static';
import { createServiceConfigLookup, type ServiceConfigLookupOptions, type ServiceConfigOutcome } from './dns-txt-config';
import type { Endpoint, ResolverContext, ResolverFactory, ResolverListener, Target } from './types';

/** The DNS port used when a `dns://server/...` authority names none. */
const DNS_SERVER_DEFAULT_PORT = 53;

/** Default watchdog on one resolution (all its queries), in ms; past it the attempt counts as failed. */
export const DEFAULT_DNS_QUERY_TIMEOUT_MS = 10_000;

/** A `dns:` target taken apart. */
export interface DnsTarget {
  /** Host name or IP literal (IPv6 without brackets) to resolve. */
  readonly host: string;
  /** Port given to every resolved address; 443 when the target has none (`doc/naming.md`). */
  readonly port: number;
  /** DNS server from the authority, as `IP:port` / `[IPv6]:port`; undefined: the system resolver. */
  readonly server: string | undefined;
}

/**
 * Parse a `dns:[//authority/]host[:port]` target (gRPC `doc/naming.md`). The authority, when present,
 * is the DNS server to ask: an IP literal with an optional port (default 53), e.g.
 * `dns://127.0.0.1:5353/svc.internal:50051` or `dns://[::1]/svc.internal`.
 *
 * @throws ConfigError (path `target`) when the host is missing or neither a host name (RFC 1123) nor an
 *   IP literal, the port is not in [1, 65535], or the authority is not `IP[:port]`.
 */
export function parseDnsTarget(target: Target): DnsTarget {
  if (target.path === '') throw new ConfigError('target', 'dns target names no host', target.raw);
  const parts = splitHostPort(target.path);
  if (isHostPortError(parts)) throw new ConfigError('target', `dns host:port "${target.path}": ${parts.error}`, target.raw);
  if (!isIpLiteral(parts.host) && !isHostName(parts.host)) {
    throw new ConfigError('target', `dns host "${parts.host}" is neither a host name nor an IP literal`, target.raw);
  }
  return { host: parts.host, port: parts.port ?? DEFAULT_PORT, server: parseDnsServer(target) };
}

function parseDnsServer(target: Target): string | undefined {
  if (target.authority === '') return undefined;
  const parts = splitHostPort(target.authority);
  if (isHostPortError(parts) || !isIpLiteral(parts.host)) {
    const why = isHostPortError(parts) ? parts.error : `"${parts.host}" is not an IP literal`;
    throw new ConfigError('target', `dns server (authority) must be IP[:port]: ${why}`, target.raw);
  }
  const port = parts.port ?? DNS_SERVER_DEFAULT_PORT;
  return isIPv6(parts.host) ? `[${parts.host}]:${port}` : `${parts.host}:${port}`;
}

/** Options of {@link createDnsResolverFactory}. */
export interface DnsResolverFactoryOptions {
  /** The queries to make; default {@link systemDnsQueries}. Unit tests pass fakes. */
  readonly queries?: DnsQueriesFactory;
  /** Watchdog per resolution in ms; default {@link DEFAULT_DNS_QUERY_TIMEOUT_MS}. */
  readonly queryTimeoutMs?: number;
  /**
   * gRFC A2 service config lookup settings, shared by every resolver of the factory: `maxBytes`
   * (default `MAX_SERVICE_CONFIG_TXT_BYTES`, 64 KiB), `random` (default `Math.random`; each resolver
   * draws once) and `hostname` (default `os.hostname`). For tests and embedders.
   */
  readonly serviceConfigLookup?: ServiceConfigLookupOptions;
}

/**
 * Build a `dns:` resolver factory (gRPC `doc/naming.md`), with injectable queries for unit tests.
 *
 * The resolver created for `dns:[//server/]host[:port]`:
 * - IP-literal host: reports that one address on each `requestResolution()`, no lookup, no timers.
 * - Otherwise: resolves on the first `requestResolution()` (no I/O before), then again every
 *   `context.refreshIntervalMs` after each resolution and on later requests, never starting two
 *   requested/periodic resolutions closer than `context.minResolutionIntervalMs` (requests in between
 *   are coalesced into one at the end of the interval); one resolution in flight at most; failures
 *   retried with backoff 1 s x1.6 capped at the refresh interval (see `createResolutionScheduler`).
 * - Service config (gRFC A2), when `context.serviceConfigLookup` is true: TXT at
 *   `_grpc_config.<host>` (never the bare host), asked of the same DNS server as the addresses, in
 *   parallel with them; see `createServiceConfigLookup` for the outcomes (`null` without a record, the
 *   chosen raw config, `serviceConfigError` for a malformed or oversized record, `undefined` when the
 *   TXT query failed). The percentage draw is made once per resolver. With the option off no TXT
 *   query is sent and updates carry `serviceConfig: undefined`.
 * - Success: `onUpdate({ endpoints, serviceConfig[, serviceConfigError] })`, one endpoint per distinct
 *   address. Zero addresses, NXDOMAIN, timeouts (watchdog `queryTimeoutMs`) and server failures of the
 *   address queries: `onError`, so the channel keeps its last good list. A TXT query still pending when
 *   the watchdog fires after the addresses answered does not fail the resolution: the addresses are
 *   reported with `serviceConfig: undefined`.
 * - `close()`: clears every timer, cancels c-ares queries (to an explicit server, and TXT) and drops
 *   late answers.
 * A listener that throws does not break the resolver: the exception is rethrown from a microtask
 * (an uncaught exception, as from any event callback).
 *
 * @param options see {@link DnsResolverFactoryOptions}.
 * @returns the factory (scheme `dns`). Its `create()` throws ConfigError (path `target`, see
 *   {@link parseDnsTarget}; paths `options.dnsRefreshIntervalMs` / `options.minResolutionIntervalMs`
 *   for a non-positive or non-finite refresh interval or a negative or non-finite minimum interval).
 */
export function createDnsResolverFactory(options: DnsResolverFactoryOptions = {}): ResolverFactory {
  const queriesFactory = options.queries ?? systemDnsQueries;
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_DNS_QUERY_TIMEOUT_MS;
  const serviceConfigOptions = options.serviceConfigLookup ?? {};
  return {
    scheme: 'dns',
    create(target, listener, context) {
      const parsed = parseDnsTarget(target);
      checkIntervals(context);
      if (isIpLiteral(parsed.host)) {
        return createStaticResolver(listener, [{ addresses: [{ host: parsed.host, port: parsed.port }] }]);
      }
      const lookup = context.serviceConfigLookup ? createServiceConfigLookup(serviceConfigOptions) : undefined;
      return createPollingDnsResolver(parsed, listener, context, queriesFactory(parsed.server), queryTimeoutMs, lookup);
    },
    defaultAuthority(target) {
      return target.path;
    },
  };
}

/**
 * The built-in `dns:` resolver factory: {@link createDnsResolverFactory} with the real queries
 * (getaddrinfo without an authority, A + AAAA to the named server with one; TXT for gRFC A2 to the
 * named server or the system's DNS servers).
 */
export const dnsResolverFactory: ResolverFactory = createDnsResolverFactory();

function checkIntervals(context: ResolverContext): void {
  if (!Number.isFinite(context.refreshIntervalMs) || context.refreshIntervalMs <= 0) {
    throw new ConfigError('options.dnsRefreshIntervalMs', 'must be a finite number of ms > 0', context.refreshIntervalMs);
  }
  if (!Number.isFinite(context.minResolutionIntervalMs) || context.minResolutionIntervalMs < 0) {
    throw new ConfigError('options.minResolutionIntervalMs', 'must be a finite number of ms >= 0', context.minResolutionIntervalMs);
  }
}

function createPollingDnsResolver(
  target: DnsTarget,
  listener: ResolverListener,
  context: ResolverContext,
  queries: DnsQueries,
  queryTimeoutMs: number,
  lookupServiceConfig: ((queries: DnsQueries, host: string) => Promise<ServiceConfigOutcome>) | undefined,
) {
  const { clock } = context;
  let closed = false;
  let watchdog: TimerHandle | undefined;

  const fail = (message: string, cause?: unknown): false => {
    notify(() => listener.onError(new Error(`dns: ${message}`, cause === undefined ? undefined : { cause })));
    return false;
  };

  // No listener call after close().
  const notify = (call: () => void): void => {
    if (!closed) callListener(call);
  };

  const resolveOnce = (): Promise<boolean> =>
    new Promise<boolean>((settle) => {
      let settled = false;
      // Set once the addresses are in while the TXT query may still be pending.
      let found: readonly Endpoint[] | undefined;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        if (watchdog !== undefined) clock.clearTimeout(watchdog);
        watchdog = undefined;
        settle(ok);
      };
      watchdog = clock.setTimeout(() => {
        watchdog = undefined;
        if (settled || closed) return;
        queries.cancel();
        if (found === undefined) return finish(fail(`resolving "${target.host}" timed out after ${queryTimeoutMs} ms`));
        // Only the TXT query is late: a config lookup failure never fails the addresses (gRFC A2 hook).
        const endpoints = found;
        notify(() => listener.onUpdate({ endpoints, serviceConfig: undefined }));
        finish(true);
      }, queryTimeoutMs);

      // Started before the address query so both run in parallel; never rejects.
      const config: Promise<ServiceConfigOutcome> = lookupServiceConfig === undefined
        ? Promise.resolve({ serviceConfig: undefined })
        : lookupServiceConfig(queries, target.host);
      // Everything that can throw runs inside this async function, so a query function that throws
      // synchronously or returns junk becomes a rejection handled below, never an unhandled one.
      const answers = (async () => {
        const ips = await queries.addresses(target.host);
        const endpoints = endpointsFromAddresses(ips.map((host) => ({ host, port: target.port })));
        if (endpoints.length === 0) return { endpoints, config: undefined };
        found = endpoints;
        return { endpoints, config: await config };
      })();
      answers.then(
        ({ endpoints, config }) => {
          if (settled || closed) return finish(false);
          if (config === undefined) return finish(fail(`"${target.host}" has no A or AAAA records`));
          notify(() => listener.onUpdate({ endpoints, ...config }));
          finish(true);
        },
        (error: unknown) => {
          if (settled || closed) return finish(false);
          const text = error instanceof Error ? error.message : String(error);
          finish(fail(`cannot resolve "${target.host}": ${text}`, error));
        },
      );
    });

  const scheduler = createResolutionScheduler({
    clock,
    refreshIntervalMs: context.refreshIntervalMs,
    minIntervalMs: context.minResolutionIntervalMs,
    run: resolveOnce,
  });

  return {
    requestResolution() {
      scheduler.request();
    },
    close() {
      if (closed) return;
      closed = true;
      scheduler.close();
      if (watchdog !== undefined) clock.clearTimeout(watchdog);
      watchdog = undefined;
      queries.cancel();
    },
  };
}

