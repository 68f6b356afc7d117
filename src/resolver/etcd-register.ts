import type { Lease } from 'etcd3';
import { systemClock } from '../clock';
import type { TimerHandle } from '../clock';
import { ConfigError } from '../errors';
import { createEtcd3Client, loadEtcdModules } from './etcd-client';
import { backoffBaseMs, jitter } from '../backoff';
import { validateCommon, validateEndpoints } from './etcd-options';
import { parseEtcdAddr } from './etcd-record';

/** Options of {@link registerEtcdEndpoint}. Durations: `ttlSeconds` in seconds, every other one in milliseconds. */
export interface EtcdRegistrationOptions {
  /** etcd client URLs: `host:port`, `http://host:port` or `https://host:port` (all or none https). */
  readonly endpoints: readonly string[];
  /** The service name; the record is written under `<service>/`. Non-empty, no trailing `/`. */
  readonly service: string;
  /**
   * Where clients reach this server: `<IPv4>:<port>`, `[<IPv6>]:<port>` or `unix:<path>` (the forms
   * the `etcd` resolver reads; host names are refused because the resolver does not resolve them).
   */
  readonly addr: string;
  /** Any JSON value; clients see it as the endpoint attribute `metadata`. */
  readonly metadata?: unknown;
  /**
   * Lease time-to-live in seconds (integer >= 1, default 10): how long the record outlives a server
   * that died without `close()`. etcd may raise small values to its minimum lease TTL.
   */
  readonly ttlSeconds?: number;
  /** etcd password authentication, if the cluster has auth enabled. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Deadline in ms for each etcd request (grant, put, revoke). Default 5 000 ms. */
  readonly requestTimeoutMs?: number;
  /** First delay in ms before registering again after the lease was lost. Default 1 000 ms. */
  readonly initialBackoffMs?: number;
  /** Largest delay in ms between attempts to register again. Default 30 000 ms. */
  readonly maxBackoffMs?: number;
}

/** A live registration returned by {@link registerEtcdEndpoint}. */
export interface EtcdRegistration {
  /** The etcd key written: `<service>/<addr>`. */
  readonly key: string;
  /**
   * Deregister: revoke the lease, which deletes the record at once (watching clients see a delete),
   * stop keep-alives and close the etcd client. Idempotent; never rejects. If etcd cannot be reached,
   * the record disappears when its lease expires, at most `ttlSeconds` later.
   */
  close(): Promise<void>;
}

/**
 * Register a server in etcd so that `etcd:///<service>` clients find it, using the key layout of
 * etcd's gRPC naming (etcd docs, "gRPC naming and discovery"): the key `<service>/<addr>` holds
 * `{"Addr":"<addr>","Metadata":<metadata or null>}`, exactly what Go's
 * `go.etcd.io/etcd/client/v3/naming/endpoints` manager writes, so Go, Java or switchyard clients can
 * read it.
 *
 * The record is attached to a lease of `ttlSeconds` that is kept alive (a keep-alive every TTL/3). If
 * the lease is lost (etcd unreachable longer than the TTL, or the lease revoked or expired on the
 * server), a new lease is granted and the record written again, retrying with backoff
 * (doc/connection-backoff.md formula, `initialBackoffMs` .. `maxBackoffMs`) until it succeeds or
 * `close()` is called. A process that dies without `close()` is deregistered by etcd when the lease
 * expires, within `ttlSeconds`.
 *
 * @example
 * ```ts
 * const registration = await registerEtcdEndpoint({
 *   endpoints: ['127.0.0.1:2379'],
 *   service: 'orders',
 *   addr: '10.1.2.3:50051',
 *   metadata: { zone: 'a' },
 * });
 * process.once('SIGTERM', () => void registration.close().then(() => server.tryShutdown(() => {})));
 * ```
 *
 * @param options See {@link EtcdRegistrationOptions}.
 * @returns Once the record is written, a handle whose `close()` deregisters.
 * The `etcd3` package is loaded on the first call (after the options are validated), not when
 * switchyard is imported.
 *
 * @throws ConfigError (rejected) for invalid options, with path `options.<field>`.
 * @throws The etcd client's error (rejected) when the first grant or put fails; nothing is left
 *   behind (the client is closed).
 */
export async function registerEtcdEndpoint(options: EtcdRegistrationOptions): Promise<EtcdRegistration> {
  const endpoints = validateEndpoints(options.endpoints, 'options.endpoints');
  const settings = validateCommon(options as unknown as Record<string, unknown>, endpoints, 'options');
  const { service, addr } = options;
  if (typeof service !== 'string' || service === '' || service.endsWith('/')) {
    throw new ConfigError('options.service', 'must be a non-empty string without a trailing "/"', service);
  }
  if (typeof addr !== 'string') throw new ConfigError('options.addr', 'must be a string', addr);
  parseEtcdAddr(addr, 'options.addr');
  const ttl = options.ttlSeconds ?? 10;
  if (!Number.isInteger(ttl) || ttl < 1) throw new ConfigError('options.ttlSeconds', 'must be an integer >= 1 (seconds)', ttl);

  const key = `${service}/${addr}`;
  const value = JSON.stringify({ Addr: addr, Metadata: options.metadata ?? null });
  const client = createEtcd3Client(await loadEtcdModules(), settings);
  const clock = systemClock;

  let closed = false;
  let lease: Lease | undefined;
  let inflight: Promise<void> | undefined;
  let timer: TimerHandle | undefined;
  let failures = 0;

  const establish = async (): Promise<void> => {
    const candidate = client.lease(ttl, { autoKeepAlive: true });
    candidate.on('lost', () => {
      if (closed || candidate !== lease) return;
      lease = undefined;
      retryLater();
    });
    try {
      await candidate.put(key).value(value).exec();
    } catch (err) {
      // Stop keep-alives; the lease, if granted, expires on its own.
      candidate.release();
      throw err;
    }
    lease = candidate;
    failures = 0;
  };

  const retryLater = (): void => {
    const delay = jitter(backoffBaseMs(failures++, settings.initialBackoffMs, settings.maxBackoffMs), Math.random);
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (closed) return;
      inflight = establish().catch(() => {
        if (!closed) retryLater();
      });
    }, delay);
  };

  try {
    await establish();
  } catch (err) {
    client.close();
    throw err;
  }

  return {
    key,
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await inflight;
      const current = lease;
      lease = undefined;
      try {
        await current?.revoke();
      } catch {
        // Unreachable etcd: the record goes when the lease expires (documented on close()).
      } finally {
        client.close();
      }
    },
  };
}
