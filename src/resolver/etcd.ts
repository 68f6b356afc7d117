import { createEtcdBackend } from './etcd-client';
import { etcdServiceName, readEtcdSettings } from './etcd-options';
import { createEtcdServiceResolver } from './etcd-watcher';
import type { ResolverFactory, Target } from './types';

/**
 * The `etcd` resolver: finds a service's endpoints in etcd v3, using the key layout of etcd's gRPC
 * naming (etcd docs, "gRPC naming and discovery"; Go's `go.etcd.io/etcd/client/v3/naming/endpoints`
 * writes it, and so does `registerEtcdEndpoint()` in `etcd-register.ts`).
 *
 * Targets (gRPC `doc/naming.md` URI form):
 * - `etcd:///<service>`: etcd endpoints come from the channel option `resolverOptions`, keyed by
 *   scheme: `createChannel('etcd:///orders', creds, { resolverOptions: { etcd: { endpoints:
 *   ['127.0.0.1:2379'] } } })` (fields in `EtcdResolverOptions`; the unkeyed
 *   `resolverOptions: { endpoints: [...] }` is read too).
 * - `etcd://<host:port>[,<host:port>...]/<service>`: the authority lists the etcd endpoints and wins
 *   over the option.
 *
 * Every key under `<service>/` holds JSON `{"Addr":"<ip>:<port>","Metadata":<any>}` (the older
 * `{"Op":0,"Addr":...}` is read too). `Addr` is an IPv4 literal with port, `[IPv6]:port` or a
 * `unix:` path; host names are not resolved (see `parseEtcdAddr`). `Metadata` becomes the endpoint
 * attribute `metadata`, the key the attribute `etcdKey`. The resolver lists the prefix, then watches
 * it from the listed revision + 1 and reports the full list on every change; on etcd outages it keeps
 * the last list and retries with backoff on the channel's clock (details in
 * `createEtcdServiceResolver`). It supplies no service config.
 *
 * `create()` does no I/O; the `etcd3` package is loaded and the etcd connection opened at the first
 * `requestResolution()` (importing switchyard never loads `etcd3`).
 *
 * @throws ConfigError from `create()`: path `target` for a malformed target (empty service, bad
 *   authority endpoint), `options.resolverOptions.etcd.endpoints` when no etcd endpoint is given or
 *   one is malformed, `options.resolverOptions.etcd.<field>` for other invalid options.
 */
export const etcdResolverFactory: ResolverFactory = {
  scheme: 'etcd',
  create(target, listener, context) {
    const service = etcdServiceName(target);
    const settings = readEtcdSettings(target, context.options);
    return createEtcdServiceResolver({
      service,
      connect: () => createEtcdBackend(settings),
      listener,
      clock: context.clock,
      random: context.random ?? Math.random,
      initialBackoffMs: settings.initialBackoffMs,
      maxBackoffMs: settings.maxBackoffMs,
      minResolutionIntervalMs: context.minResolutionIntervalMs,
    });
  },
  defaultAuthority(target: Target) {
    // A service path such as `prod/orders` cannot be an HTTP/2 :authority (no "/" allowed there);
    // its last segment is the service's own name, which is also what a TLS certificate would carry.
    const segments = target.path.split('/').filter((s) => s !== '');
    return segments[segments.length - 1] ?? 'etcd';
  },
};

export type { EtcdResolverOptions } from './etcd-options';
