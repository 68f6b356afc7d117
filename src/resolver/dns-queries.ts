import { promises as dns } from 'node:dns';

/**
 * The name-service queries the DNS resolver makes, behind an interface so unit tests can replace them
 * (see `createDnsResolverFactory`). One instance per resolver.
 */
export interface DnsQueries {
  /**
   * The IP literals (IPv4 dotted quad, IPv6 without brackets) of `host`, in answer order; may be empty
   * when the name exists but has no address.
   * @throws (rejects) when the name cannot be resolved (NXDOMAIN, timeout, server failure...).
   */
  addresses(host: string): Promise<string[]>;
  /**
   * The TXT records at `name`, each as its list of character-strings (RFC 1035 §3.3.14); used for
   * the service config of gRFC A2 (`_grpc_config.<host>`).
   * @throws (rejects) with `code` ENODATA / ENOTFOUND when there is no such record or name (see
   *   {@link isNoSuchData}), or another code on timeout, server failure or cancellation.
   */
  txt(name: string): Promise<string[][]>;
  /** Abandon queries in flight (best effort: they reject or are ignored). Never throws. */
  cancel(): void;
}

/**
 * Creates the {@link DnsQueries} of one resolver.
 * @param server the target's authority, `IP[:port]` / `[IPv6][:port]` of the DNS server to ask, or
 *   `undefined` to use the system resolver.
 */
export type DnsQueriesFactory = (server: string | undefined) => DnsQueries;

/** Per-try timeout of c-ares queries (explicit server, and TXT to the system's servers), in ms (c-ares lengthens later tries itself). */
const SERVER_QUERY_TIMEOUT_MS = 1000;
/** Tries per c-ares query. */
const SERVER_QUERY_TRIES = 2;

/**
 * The real queries (Node's `dns` module). Without a server: addresses by `dns.promises.lookup(host,
 * { all: true, verbatim: true })`, i.e. getaddrinfo, so `/etc/hosts` and the system's search domains
 * apply, as for any other Node client; TXT by a `dns.promises.Resolver` aimed at the process's current
 * DNS servers (`dns.getServers()`, so `dns.setServers()` by the application is honoured) — a resolver
 * of our own rather than `dns.promises.resolveTxt` so the query has bounded timeouts and `cancel()`
 * reaches it. No search domains apply to the TXT name (c-ares `ares_query`, as in grpc-js).
 * With a server (`dns://127.0.0.1:5353/host:port`, gRPC `doc/naming.md`): a `dns.promises.Resolver`
 * pointed at it, asking A and AAAA in parallel (see {@link combineFamilyAnswers}) and TXT.
 * Nothing is sent before the first call.
 */
export const systemDnsQueries: DnsQueriesFactory = (server) => {
  let resolver: InstanceType<typeof dns.Resolver> | undefined;
  const serverResolver = (): InstanceType<typeof dns.Resolver> => {
    if (resolver === undefined) {
      resolver = new dns.Resolver({ timeout: SERVER_QUERY_TIMEOUT_MS, tries: SERVER_QUERY_TRIES });
      resolver.setServers(server === undefined ? dns.getServers() : [server]);
    }
    return resolver;
  };
  return {
    async addresses(host) {
      if (server === undefined) {
        const answers = await dns.lookup(host, { all: true, verbatim: true });
        return answers.map((answer) => answer.address);
      }
      const r = serverResolver();
      const [v4, v6] = await Promise.allSettled([r.resolve4(host), r.resolve6(host)]);
      return combineFamilyAnswers(host, v4, v6);
    },
    txt(name) {
      return serverResolver().resolveTxt(name);
    },
    cancel() {
      resolver?.cancel();
    },
  };
};

/**
 * Merge the A and AAAA answers for one name. One family answering is enough; ENODATA or ENOTFOUND
 * for a family just means it has no addresses.
 *
 * @param host the name queried, for the error message.
 * @param v4 outcome of the A query.
 * @param v6 outcome of the AAAA query.
 * @returns IPv4 then IPv6 addresses (empty when the name exists without any; the caller reports that).
 * @throws Error when both queries failed: with the first failure other than ENODATA/ENOTFOUND
 *   (timeout, refusal, server failure) as `cause` if there is one, else naming NXDOMAIN when a
 *   query returned ENOTFOUND.
 */
export function combineFamilyAnswers(
  host: string,
  v4: PromiseSettledResult<string[]>,
  v6: PromiseSettledResult<string[]>,
): string[] {
  if (v4.status === 'fulfilled' || v6.status === 'fulfilled') {
    return [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  }
  const real = [v4.reason, v6.reason].find((reason) => !isNoSuchData(reason));
  if (real === undefined) {
    const notFound = [v4.reason, v6.reason].find((reason) => codeOf(reason) === 'ENOTFOUND');
    if (notFound === undefined) return [];
    throw new Error(`"${host}" does not exist (NXDOMAIN)`, { cause: notFound });
  }
  throw new Error(`A/AAAA queries for "${host}" failed: ${errorText(real)}`, { cause: real });
}

/**
 * Whether a failed query means "no such data" rather than a failure: ENODATA (the name exists without
 * records of that type) or ENOTFOUND (NXDOMAIN), as Node's `dns` module reports them.
 * @param reason the rejection reason of a `dns` query.
 */
export function isNoSuchData(reason: unknown): boolean {
  const code = codeOf(reason);
  return code === 'ENODATA' || code === 'ENOTFOUND';
}

function codeOf(reason: unknown): unknown {
  return typeof reason === 'object' && reason !== null ? (reason as { code?: unknown }).code : undefined;
}

function errorText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
