import type { Etcd3, IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import type * as Etcd3Lib from 'etcd3';
import type * as CockatielLib from 'cockatiel';
import type { EtcdSettings } from './etcd-options';

/** The `etcd3` module's exports. Internal. */
export type Etcd3Module = typeof Etcd3Lib;
/** The `cockatiel` module's exports (etcd3's fault-handling policies). Internal. */
export type CockatielModule = typeof CockatielLib;

/** The two packages the etcd support needs, loaded on first use by {@link loadEtcdModules}. Internal. */
export interface EtcdModules {
  readonly etcd3: Etcd3Module;
  readonly cockatiel: CockatielModule;
}

let loading: Promise<EtcdModules> | undefined;

/**
 * Load `etcd3` and `cockatiel` (optional peer dependencies of switchyard) on first use, so that
 * importing switchyard costs nothing for applications that never use the `etcd` resolver or
 * `registerEtcdEndpoint()`, and a plain install does not need them. Later calls share one promise.
 *
 * A dynamic `import()` rather than `require()`: it works unchanged in the CommonJS build, the ESM
 * build (where `require` does not exist) and under test runners.
 *
 * @returns The loaded modules.
 * @throws Error (rejects) naming the missing package when one cannot be loaded; the next call
 *   tries again.
 */
export function loadEtcdModules(): Promise<EtcdModules> {
  loading ??= Promise.all([load('etcd3', () => import('etcd3')), load('cockatiel', () => import('cockatiel'))]).then(
    ([etcd3, cockatiel]) => ({ etcd3: namedExports(etcd3, 'Etcd3'), cockatiel: namedExports(cockatiel, 'retry') }),
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/**
 * Import one optional peer dependency of the etcd support.
 * @throws Error (rejects) naming the package and the install command when it cannot be loaded.
 */
async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    throw new Error(
      `switchyard's etcd support needs the optional peer dependency "${name}", which could not be loaded ` +
        `(install it with: npm install etcd3 cockatiel): ${String(err)}`,
      { cause: err },
    );
  }
}

/** A CommonJS package imported from ESM may expose its exports only on `default`; pick whichever has them. */
function namedExports<T extends object>(ns: T, probe: string): T {
  if (probe in ns) return ns;
  const fallback = (ns as { default?: unknown }).default;
  return (typeof fallback === 'object' && fallback !== null ? fallback : ns) as T;
}

/** One key/value of a prefix listing. Internal. */
export interface EtcdKeyValue {
  readonly key: string;
  readonly value: Buffer;
}

/** A consistent listing of a prefix and the store revision it was read at (decimal int64). Internal. */
export interface EtcdListing {
  readonly revision: string;
  readonly kvs: readonly EtcdKeyValue[];
}

/** One watch event; `modRevision` is the revision of the change (decimal int64). Internal. */
export interface EtcdWatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: Buffer;
  readonly modRevision: string;
}

/** Callbacks of one watch. After `onCompacted` or `onError` the watch is dead and calls nothing more. */
export interface EtcdWatchHandlers {
  /** etcd confirmed the watch; events from the start revision follow. */
  onCreated(): void;
  /** A batch of changes, in revision order. */
  onEvents(events: readonly EtcdWatchEvent[]): void;
  /** The start revision was compacted away: the caller must list again and watch from the new revision. */
  onCompacted(compactRevision: string): void;
  /** The stream failed or etcd cancelled the watch. */
  onError(error: Error): void;
}

/** A running watch. `cancel()` is idempotent and silences every handler. */
export interface EtcdWatch {
  cancel(): void;
}

/**
 * The few etcd v3 operations the resolver needs, so its state machine can be unit tested against a
 * fake. Internal.
 */
export interface EtcdBackend {
  /** Range over `prefix` (etcd KV.Range with range_end = prefix end). Rejects on failure or timeout. */
  list(prefix: string): Promise<EtcdListing>;
  /** Watch `prefix` from `startRevision` inclusive (etcd Watch.Watch with one create_request). */
  watch(prefix: string, startRevision: string, handlers: EtcdWatchHandlers): EtcdWatch;
  /** Close every connection. Pending `list` calls reject; no handler runs afterwards. */
  close(): void;
}

/**
 * Create an etcd3 client for switchyard.
 *
 * - Unary calls get a deadline of `settings.requestTimeoutMs`; streams none (they live as long as the
 *   resolver or registration).
 * - No per-host circuit breaker, and one immediate retry per other endpoint for recoverable errors:
 *   the caller owns backoff (on its `Clock`), and a dead cluster member is skipped at once.
 * - HTTP/2 keepalive pings every 10 s with a 5 s timeout, so a member that hangs (process stopped,
 *   black-holed network) is noticed on an otherwise idle watch stream. 10 s is above etcd's default
 *   `--grpc-keepalive-min-time` of 5 s, under which the server would close the connection.
 *
 * @param modules The loaded packages (see {@link loadEtcdModules}).
 * @param settings Validated endpoints, auth and timeouts.
 */
export function createEtcd3Client(modules: EtcdModules, settings: EtcdSettings): Etcd3 {
  const { handleWhen, noop, retry } = modules.cockatiel;
  return new modules.etcd3.Etcd3({
    hosts: [...settings.endpoints],
    ...(settings.auth === undefined ? {} : { auth: { username: settings.auth.username, password: settings.auth.password } }),
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + settings.requestTimeoutMs }),
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(modules.etcd3.isRecoverableError), { maxAttempts: settings.endpoints.length - 1 }),
    },
  });
}

/** The client of an {@link EtcdBackend} once the packages are loaded. */
interface LoadedClient {
  readonly client: Etcd3;
  readonly etcd3: Etcd3Module;
}

/**
 * An {@link EtcdBackend} on a real etcd cluster, through the `etcd3` client. Nothing is loaded and no
 * I/O happens until the first `list` or `watch`, which loads the packages ({@link loadEtcdModules})
 * and opens the client.
 * @param settings Validated endpoints, auth and timeouts.
 */
export function createEtcdBackend(settings: EtcdSettings): EtcdBackend {
  let closed = false;
  let client: Etcd3 | undefined;
  let ready: Promise<LoadedClient> | undefined;
  const watches = new Set<EtcdWatch>();

  const getClient = (): Promise<LoadedClient> => {
    ready ??= loadEtcdModules().then(
      (modules) => {
        if (closed) throw new Error('etcd client closed');
        client = createEtcd3Client(modules, settings);
        return { client, etcd3: modules.etcd3 };
      },
      (err: unknown) => {
        // A failed load is retried by the next operation (the resolver backs off between them).
        ready = undefined;
        throw err;
      },
    );
    return ready;
  };

  return {
    async list(prefix) {
      const { client: c } = await getClient();
      const res = await c.getAll().prefix(prefix).exec();
      return {
        revision: res.header.revision,
        kvs: res.kvs.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value })),
      };
    },
    watch(prefix, startRevision, handlers) {
      const watch = startWatch(getClient(), prefix, startRevision, handlers, () => watches.delete(watch));
      watches.add(watch);
      return watch;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const watch of watches) watch.cancel();
      watches.clear();
      client?.close();
    },
  };
}

function startWatch(
  loaded: Promise<LoadedClient>,
  prefix: string,
  startRevision: string,
  handlers: EtcdWatchHandlers,
  onDone: () => void,
): EtcdWatch {
  let done = false;
  let stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;

  const stop = (): void => {
    if (done) return;
    done = true;
    onDone();
    if (stream !== undefined) {
      // end() first: etcd3 only marks the host failed for errors on a still-writable stream, and a
      // cancel we asked for says nothing about the host.
      stream.end();
      stream.cancel();
    }
  };
  const fail = (error: Error): void => {
    if (done) return;
    stop();
    handlers.onError(error);
  };

  loaded
    .then(async ({ client, etcd3 }) => {
      if (done) return;
      const range = etcd3.Range.prefix(prefix);
      const s = await client.watchClient.watch();
      // Keep an error listener for the stream's whole life: an 'error' event without one would throw.
      s.on('error', (err) => fail(err));
      if (done) {
        s.end();
        s.cancel();
        return;
      }
      stream = s;
      s.on('end', () => fail(new Error('etcd watch stream ended')));
      s.on('data', (res) => {
        if (done) return;
        if (res.canceled) {
          const compact = res.compact_revision;
          stop();
          if (compact !== undefined && compact !== '0' && compact !== '') handlers.onCompacted(compact);
          else handlers.onError(new Error(`etcd cancelled the watch${res.cancel_reason ? `: ${res.cancel_reason}` : ''}`));
          return;
        }
        if (res.created) handlers.onCreated();
        if (res.events.length > 0) {
          handlers.onEvents(
            res.events.map((event) => ({
              type: event.type === 'Delete' ? 'delete' : 'put',
              key: event.kv.key.toString('utf8'),
              value: event.kv.value,
              modRevision: event.kv.mod_revision,
            })),
          );
        }
      });
      s.write({ create_request: { key: range.start, range_end: range.end, start_revision: startRevision } });
    })
    .catch((err: Error) => fail(err));
  return { cancel: stop };
}
