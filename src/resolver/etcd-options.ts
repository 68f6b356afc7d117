import { ConfigError } from '../errors';
import type { Target } from './types';

/**
 * Options of the `etcd` resolver, given as `SwitchyardChannelOptions.resolverOptions.etcd`.
 * Every duration is in milliseconds.
 */
export interface EtcdResolverOptions {
  /**
   * etcd client URLs: `host:port`, `http://host:port` or `https://host:port` (all or none https; https
   * uses the system's root CAs). Ignored when the target names endpoints in its authority
   * (`etcd://h1:2379,h2:2379/<service>`).
   */
  readonly endpoints?: readonly string[];
  /** etcd password authentication, if the cluster has auth enabled. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Deadline for each unary etcd request (range, lease grant, put). Default 5 000 ms. */
  readonly requestTimeoutMs?: number;
  /** First retry delay after etcd became unreachable. Default 1 000 ms. */
  readonly initialBackoffMs?: number;
  /** Largest retry delay while etcd stays unreachable. Default 30 000 ms. */
  readonly maxBackoffMs?: number;
}

/** Validated settings for one etcd resolver or registration; same meaning as {@link EtcdResolverOptions}. Internal. */
export interface EtcdSettings {
  /** At least one `[http(s)://]host:port`. */
  readonly endpoints: readonly string[];
  readonly auth?: { readonly username: string; readonly password: string };
  /** ms */
  readonly requestTimeoutMs: number;
  /** ms */
  readonly initialBackoffMs: number;
  /** ms, >= initialBackoffMs */
  readonly maxBackoffMs: number;
}

const OPTIONS_PATH = 'options.resolverOptions.etcd';
const ENDPOINT = /^(?:https?:\/\/)?(?:\[[0-9a-fA-F:.%\w]+\]|[^\s:/[\]@]+):\d{1,5}\/?$/;

/**
 * The service name of an etcd target: the path of `etcd:///<service>` or `etcd://<hosts>/<service>`
 * without its leading `/`. Keys of the service live under `<service>/` (etcd docs, "gRPC naming and
 * discovery"). The path is used as written (no percent-decoding), like etcd's Go resolver does.
 * @throws ConfigError (path `target`) when the service is empty, ends in `/` or has empty segments.
 */
export function etcdServiceName(target: Target): string {
  const service = target.path.startsWith('/') ? target.path.slice(1) : target.path;
  if (service === '' || service.endsWith('/') || service.includes('//')) {
    throw new ConfigError('target', 'an etcd target must be etcd:///<service> or etcd://<host:port>[,<host:port>...]/<service> with a non-empty service name without empty path segments', target.raw);
  }
  return service;
}

/**
 * Validate the etcd resolver settings from the target authority and the resolver options.
 *
 * `context.options` may be the `etcd` entry of `resolverOptions` itself (`{ endpoints: [...] }`) or the
 * whole `resolverOptions` map (`{ etcd: { endpoints: [...] } }`); both are read.
 *
 * @param target The parsed target; a non-empty authority is a comma-separated list of etcd endpoints.
 * @param options `ResolverContext.options`.
 * @throws ConfigError at `target` for a malformed authority endpoint, at
 *   `options.resolverOptions.etcd.endpoints` when no endpoint is given or one is malformed, and at
 *   `options.resolverOptions.etcd.<field>` for any other invalid field.
 */
export function readEtcdSettings(target: Target, options: Readonly<Record<string, unknown>>): EtcdSettings {
  const raw = pickEtcdOptions(options);
  let endpoints: string[];
  if (target.authority !== '') {
    endpoints = target.authority.split(',');
    for (const endpoint of endpoints) {
      if (!ENDPOINT.test(endpoint) || endpoint.includes('://')) {
        throw new ConfigError('target', 'the authority of an etcd target must be a comma-separated list of host:port', target.raw);
      }
    }
  } else {
    endpoints = validateEndpoints(raw.endpoints, `${OPTIONS_PATH}.endpoints`);
  }
  return validateCommon(raw, endpoints, OPTIONS_PATH);
}

/**
 * Validate etcd endpoints given as an option.
 * @throws ConfigError at `path` when the value is not a non-empty list of `[http(s)://]host:port`
 *   strings, or mixes http and https.
 */
export function validateEndpoints(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(path, 'etcd endpoints are required: a non-empty list of "host:port" (e.g. ["127.0.0.1:2379"])', value);
  }
  value.forEach((endpoint, i) => {
    if (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint)) {
      throw new ConfigError(`${path}[${i}]`, 'must be "host:port", "http://host:port" or "https://host:port"', endpoint);
    }
  });
  const secure = value.filter((e: string) => e.startsWith('https://')).length;
  if (secure !== 0 && secure !== value.length) throw new ConfigError(path, 'must be all https or all plain-text endpoints', value);
  return [...value] as string[];
}

/**
 * Validate the fields shared by the resolver and `registerEtcdEndpoint()`: auth, request timeout and backoff.
 * @throws ConfigError at `<path>.<field>` for an invalid field.
 */
export function validateCommon(raw: Record<string, unknown>, endpoints: readonly string[], path: string): EtcdSettings {
  const auth = raw.auth;
  if (auth !== undefined) {
    const a = auth as { username?: unknown; password?: unknown } | null;
    if (typeof a !== 'object' || a === null || typeof a.username !== 'string' || typeof a.password !== 'string') {
      throw new ConfigError(`${path}.auth`, 'must be { username: string, password: string }');
    }
  }
  const settings: EtcdSettings = {
    endpoints,
    requestTimeoutMs: positiveMs(raw.requestTimeoutMs, 5_000, `${path}.requestTimeoutMs`),
    initialBackoffMs: positiveMs(raw.initialBackoffMs, 1_000, `${path}.initialBackoffMs`),
    maxBackoffMs: positiveMs(raw.maxBackoffMs, 30_000, `${path}.maxBackoffMs`),
    ...(auth === undefined ? {} : { auth: auth as EtcdSettings['auth'] }),
  };
  if (settings.maxBackoffMs < settings.initialBackoffMs) {
    throw new ConfigError(`${path}.maxBackoffMs`, 'must be >= initialBackoffMs', settings.maxBackoffMs);
  }
  return settings;
}

function pickEtcdOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const nested = options.etcd;
  if (!('endpoints' in options) && typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
    return nested as Record<string, unknown>;
  }
  return options as Record<string, unknown>;
}

function positiveMs(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(path, 'must be a positive number of milliseconds', value);
  }
  return value;
}
