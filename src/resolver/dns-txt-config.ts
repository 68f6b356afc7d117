import { hostname as osHostname } from 'node:os';
import { ConfigError } from '../errors';
import { type DnsQueries, isNoSuchData } from './dns-queries';
import { selectServiceConfig } from './dns-service-config';
import type { ResolverUpdate } from './types';

/**
 * Upper bound, in bytes (UTF-8, every string of every TXT record at `_grpc_config.<host>` counted), on
 * what the DNS resolver accepts as a service config source (gRFC A2). 64 KiB: A2 notes that a whole
 * DNS response cannot exceed 65 535 bytes, so no legitimate answer is larger; the bound caps what is
 * concatenated and JSON-parsed whatever the name service hands back. A larger answer is reported as a
 * `serviceConfigError` (the channel keeps its last good config).
 */
export const MAX_SERVICE_CONFIG_TXT_BYTES = 65_536;

/** The label gRFC A2 prepends to the server name to find its service config TXT records. */
export const SERVICE_CONFIG_TXT_PREFIX = '_grpc_config.';

/** The service-config part of a DNS resolver update (see `ResolverUpdate`). */
export type ServiceConfigOutcome = Pick<ResolverUpdate, 'serviceConfig' | 'serviceConfigError'>;

/** Options of {@link createServiceConfigLookup}. */
export interface ServiceConfigLookupOptions {
  /** Size bound in bytes on all TXT strings at the name; default {@link MAX_SERVICE_CONFIG_TXT_BYTES}. */
  readonly maxBytes?: number;
  /** Uniform random number in [0, 1), drawn at most once per lookup instance; default `Math.random`. */
  readonly random?: () => number;
  /** This client's host name for `clientHostname` matching; default `os.hostname()`, read per lookup. */
  readonly hostname?: () => string;
}

/**
 * Create the gRFC A2 service config lookup of one DNS resolver: TXT at `_grpc_config.<host>` (never
 * the bare host), size-bounded, then choice selection by `selectServiceConfig`.
 *
 * The percentage draw (A2 "percentage of clients") is made once, on first need, and reused by every
 * later call of the returned function, so one resolver (one channel) stays in or out of a canary
 * across re-resolutions.
 *
 * Outcomes of the returned function (it never rejects):
 * - no TXT record, or the name does not exist (ENODATA / ENOTFOUND), or no `grpc_config` record, or
 *   no choice matches: `{ serviceConfig: null }` — the channel falls back to its own config;
 * - a matching choice: `{ serviceConfig: <the raw serviceConfig object> }` — the channel validates it;
 * - answer larger than `maxBytes`, or a malformed record (bad JSON, unknown choice key, wrong type):
 *   `{ serviceConfigError: ConfigError }` with path `_grpc_config.<host>[...]` — the channel keeps its
 *   last good config (gRFC A21);
 * - the TXT query itself failed (timeout, SERVFAIL, refused, cancelled):
 *   `{ serviceConfig: undefined }`. A transient name-service failure says nothing about the config, so
 *   it must neither fail the address resolution nor change the config: `undefined` tells the channel
 *   this update carries no config, and it keeps what it has. Deliberately not a `serviceConfigError`:
 *   that means "a config exists and is bad", which gRFC A21 lets a channel without a previous config
 *   treat as fatal.
 *
 * @param options see {@link ServiceConfigLookupOptions}.
 * @returns `(queries, host) => Promise<ServiceConfigOutcome>`; `host` is the target's host name
 *   (not an IP literal), with or without a trailing dot.
 */
export function createServiceConfigLookup(
  options: ServiceConfigLookupOptions = {},
): (queries: DnsQueries, host: string) => Promise<ServiceConfigOutcome> {
  const maxBytes = options.maxBytes ?? MAX_SERVICE_CONFIG_TXT_BYTES;
  const random = options.random ?? Math.random;
  const hostname = options.hostname ?? osHostname;
  let draw: number | undefined;
  const stableRandom = (): number => (draw ??= random());

  return async (queries, host) => {
    const name = `${SERVICE_CONFIG_TXT_PREFIX}${host}`;
    let records: string[][];
    try {
      records = await queries.txt(name);
    } catch (error) {
      return { serviceConfig: isNoSuchData(error) ? null : undefined };
    }
    try {
      const bytes = txtBytes(records);
      if (bytes > maxBytes) {
        throw new ConfigError(name, `TXT records must total at most ${maxBytes} bytes (gRFC A2 service config)`, `${bytes} bytes`);
      }
      const serviceConfig = selectServiceConfig(records, { hostname: hostname(), serverName: host, random: stableRandom, maxBytes });
      return { serviceConfig };
    } catch (error) {
      const serviceConfigError = error instanceof Error ? error : new Error(String(error));
      return { serviceConfig: undefined, serviceConfigError };
    }
  };
}

function txtBytes(records: readonly (readonly string[])[]): number {
  let bytes = 0;
  for (const strings of records) for (const s of strings) bytes += Buffer.byteLength(s, 'utf8');
  return bytes;
}
