import { handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, Range } from 'etcd3';
import type { IDuplexStream, IWatchRequest, IWatchResponse } from 'etcd3';
import type { EtcdSettings } from './etcd-options';

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
 * @param settings Validated endpoints, auth and timeouts.
 */
export function createEtcd3Client(settings: EtcdSettings): Etcd3 {
  return new Etcd3({
    hosts: [...settings.endpoints],
    ...(settings.auth === undefined ? {} : { auth: { username: settings.auth.username, password: settings.auth.password } }),
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + settings.requestTimeoutMs }),
    faultHandling: {
      host: () => noop,
      global: retry(handleWhen(isRecoverableError), { maxAttempts: settings.endpoints.length - 1 }),
    },
  });
}

/**
 * An {@link EtcdBackend} on a real etcd cluster, through the `etcd3` client. No I/O happens until
 * the first `list` or `watch`.
 * @param settings Validated endpoints, auth and timeouts.
 */
export function createEtcdBackend(settings: EtcdSettings): EtcdBackend {
  const client = createEtcd3Client(settings);
  const watches = new Set<EtcdWatch>();
  return {
    async list(prefix) {
      const res = await client.getAll().prefix(prefix).exec();
      return {
        revision: res.header.revision,
        kvs: res.kvs.map((kv) => ({ key: kv.key.toString('utf8'), value: kv.value })),
      };
    },
    watch(prefix, startRevision, handlers) {
      const watch = startWatch(client, prefix, startRevision, handlers, () => watches.delete(watch));
      watches.add(watch);
      return watch;
    },
    close() {
      for (const watch of watches) watch.cancel();
      watches.clear();
      client.close();
    },
  };
}

function startWatch(
  client: Etcd3,
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

  const range = Range.prefix(prefix);
  client.watchClient
    .watch()
    .then((s) => {
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
