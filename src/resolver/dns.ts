import { isIPv6 } from 'node:net';
import type { TimerHandle } from '../clock';
import { ConfigError } from '../errors';
import { type DnsQueries, type DnsQueriesFactory, systemDnsQueries } from './dns-queries';
import { endpointsFromAddresses } from './endpoint-list';
import { callListener } from './listener-call';
import { DEFAULT_PORT, isHostName, isHostPortError, isIpLiteral, splitHostPort } from './host-port';
import { createResolutionScheduler } from './resolution-scheduler';
import { createStaticResolver } from './static';
import type { ResolverContext, ResolverFactory, ResolverListener, ResolverUpdate, Target } from './types';

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
 * - Success: `onUpdate({ endpoints, serviceConfig: undefined })`, one endpoint per distinct address.
 *   Zero addresses, NXDOMAIN, timeouts (watchdog `queryTimeoutMs`) and server failures: `onError`,
 *   so the channel keeps its last good list.
 * - `close()`: clears every timer, cancels queries to an explicit server and drops late answers.
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
  return {
    scheme: 'dns',
    create(target, listener, context) {
      const parsed = parseDnsTarget(target);
      checkIntervals(context);
      if (isIpLiteral(parsed.host)) {
        return createStaticResolver(listener, [{ addresses: [{ host: parsed.host, port: parsed.port }] }]);
      }
      return createPollingDnsResolver(parsed, listener, context, queriesFactory(parsed.server), queryTimeoutMs);
    },
    defaultAuthority(target) {
      return target.path;
    },
  };
}

/**
 * The built-in `dns:` resolver factory: {@link createDnsResolverFactory} with the real queries
 * (getaddrinfo without an authority, A + AAAA to the named server with one).
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
        finish(fail(`resolving "${target.host}" timed out after ${queryTimeoutMs} ms`));
      }, queryTimeoutMs);

      // Everything that can throw runs inside this async function, so a query function that throws
      // synchronously or returns junk becomes a rejection handled below, never an unhandled one.
      const answers = (async () => {
        const [ips, config] = await Promise.all([
          queries.addresses(target.host),
          lookupServiceConfig(queries, target.host, context),
        ]);
        return { endpoints: endpointsFromAddresses(ips.map((host) => ({ host, port: target.port }))), config };
      })();
      answers.then(
        ({ endpoints, config }) => {
          if (settled || closed) return finish(false);
          if (endpoints.length === 0) return finish(fail(`"${target.host}" has no A or AAAA records`));
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

/** The service-config part of a DNS resolver update. */
type ServiceConfigPart = Pick<ResolverUpdate, 'serviceConfig' | 'serviceConfigError'>;

/*
 * ============================== HOOK: gRFC A2 service config (TXT) ==============================
 * Not wired yet. When `context.serviceConfigLookup` is true this will:
 *   1. query `queries.txt(`_grpc_config.${host}`)` (runs in parallel with the address queries and
 *      under the same watchdog, see resolveOnce);
 *   2. hand the TXT strings to the pure parser in src/resolver/dns-service-config.ts;
 *   3. return `{ serviceConfig }` (the chosen JSON; `null` when there is no record, i.e.
 *      ENODATA/ENOTFOUND) or `{ serviceConfigError }` for an unreadable record. A TXT failure must
 *      never fail the address resolution.
 * Until then it returns `serviceConfig: undefined`: the channel's own `serviceConfig` option applies.
 * ================================================================================================
 */
async function lookupServiceConfig(_queries: DnsQueries, _host: string, _context: ResolverContext): Promise<ServiceConfigPart> {
  return { serviceConfig: undefined };
}
