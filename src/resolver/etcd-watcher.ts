import type { Clock, TimerHandle } from '../clock';
import { addressKey } from './address';
import type { EtcdBackend, EtcdKeyValue, EtcdWatch, EtcdWatchEvent } from './etcd-client';
import { backoffBaseMs, jitter } from '../backoff';
import { parseEtcdRecord } from './etcd-record';
import type { ConfigError } from '../errors';
import type { Endpoint, Resolver, ResolverListener } from './types';

/** What {@link createEtcdServiceResolver} needs. Internal. */
export interface EtcdServiceResolverDeps {
  /** The service name; keys live under `<service>/`. */
  readonly service: string;
  /** Creates the etcd backend; called once, at the first `requestResolution()`. */
  readonly connect: () => EtcdBackend;
  /** Receives every endpoint list and every failure note; never called after `close()`. */
  readonly listener: ResolverListener;
  /** The clock of all retry timers (the channel's; fake in unit tests). */
  readonly clock: Clock;
  /** Uniform random number in [0, 1) for backoff jitter. */
  readonly random: () => number;
  /** First retry delay in ms after etcd became unreachable. */
  readonly initialBackoffMs: number;
  /** Largest retry delay in ms. */
  readonly maxBackoffMs: number;
  /** A `requestResolution()` while waiting to retry retries at once if the last attempt is this old (ms). */
  readonly minResolutionIntervalMs: number;
}

type Phase = 'idle' | 'listing' | 'watching' | 'waiting' | 'closed';

/**
 * The etcd resolver's state machine, implementing the etcd gRPC naming scheme (etcd docs, "gRPC
 * naming and discovery"; `go.etcd.io/etcd/client/v3/naming/resolver`):
 *
 * 1. The first `requestResolution()` lists `<service>/` and reports every valid record.
 * 2. It then watches the prefix from the listed revision + 1, so no change between the listing and
 *    the watch is missed, applies each put/delete and reports the full new list (sorted by key; an
 *    address registered under two keys is reported once).
 * 3. An invalid record is left out (a put that makes a key invalid removes its endpoint) and noted
 *    with `onError`; the other records are still reported, before the note.
 * 4. When etcd fails (list error, watch stream lost), `onError` is called (saying whether a list is
 *    kept or none was ever received), the last list stays in force, and the resolver retries after a
 *    backoff on `clock` (doc/connection-backoff.md formula): it resumes the watch from the last
 *    applied revision + 1, so changes made meanwhile arrive as events. If etcd compacted that revision
 *    away, it lists again and watches from there.
 * 5. `requestResolution()` while listing or watching does nothing (the watch already delivers every
 *    change); while waiting for a retry it retries at once if the last attempt is at least
 *    `minResolutionIntervalMs` old.
 * 6. `close()` cancels the watch, closes the etcd client and clears the timer; no listener call follows.
 */
export function createEtcdServiceResolver(deps: EtcdServiceResolverDeps): Resolver {
  const { listener, clock } = deps;
  const prefix = `${deps.service}/`;
  // Valid endpoints by etcd key; the key order of a report comes from sorting these keys.
  const records = new Map<string, Endpoint>();
  let backend: EtcdBackend | undefined;
  let phase: Phase = 'idle';
  // Bumped by every new operation and by close(): a callback of an older one is stale and ignored.
  let generation = 0;
  let revision: bigint | undefined;
  let needList = true;
  let failures = 0;
  let lastAttemptAt = 0;
  /** An endpoint list has been reported: the channel has one to keep while etcd is down. */
  let reported = false;
  let watch: EtcdWatch | undefined;
  let timer: TimerHandle | undefined;

  const getBackend = (): EtcdBackend => (backend ??= deps.connect());

  const attempt = (): void => {
    lastAttemptAt = clock.now();
    if (needList || revision === undefined) list();
    else watchFrom(revision + 1n);
  };

  const list = (): void => {
    phase = 'listing';
    const gen = ++generation;
    let listing: Promise<{ revision: string; kvs: readonly EtcdKeyValue[] }>;
    try {
      listing = getBackend().list(prefix);
    } catch (err) {
      fail(err);
      return;
    }
    listing.then(
      (res) => {
        if (gen !== generation) return;
        records.clear();
        const errors: ConfigError[] = [];
        for (const kv of res.kvs) {
          const parsed = parseEtcdRecord(kv.key, kv.value);
          if (parsed.ok) records.set(kv.key, parsed.endpoint);
          else errors.push(parsed.error);
        }
        revision = BigInt(res.revision);
        needList = false;
        report(errors);
        // The listener may have closed the resolver from inside onUpdate.
        if (gen === generation) watchFrom(revision + 1n);
      },
      (err: unknown) => {
        if (gen === generation) fail(err);
      },
    );
  };

  const watchFrom = (start: bigint): void => {
    phase = 'watching';
    const gen = ++generation;
    try {
      watch = getBackend().watch(prefix, start.toString(), {
        onCreated() {
          if (gen === generation) failures = 0;
        },
        onEvents(events) {
          if (gen === generation) applyEvents(events);
        },
        onCompacted() {
          if (gen !== generation) return;
          watch = undefined;
          needList = true;
          list();
        },
        onError(error) {
          if (gen !== generation) return;
          watch = undefined;
          fail(error);
        },
      });
    } catch (err) {
      fail(err);
    }
  };

  const applyEvents = (events: readonly EtcdWatchEvent[]): void => {
    const errors: ConfigError[] = [];
    for (const event of events) {
      const eventRevision = BigInt(event.modRevision);
      if (revision === undefined || eventRevision > revision) revision = eventRevision;
      if (event.type === 'delete') {
        records.delete(event.key);
        continue;
      }
      const parsed = parseEtcdRecord(event.key, event.value);
      if (parsed.ok) {
        records.set(event.key, parsed.endpoint);
      } else {
        records.delete(event.key);
        errors.push(parsed.error);
      }
    }
    report(errors);
  };

  const report = (errors: readonly ConfigError[]): void => {
    const keys = [...records.keys()].sort();
    const seen = new Set<string>();
    const endpoints: Endpoint[] = [];
    for (const key of keys) {
      const endpoint = records.get(key)!;
      const id = addressKey(endpoint.addresses[0]!);
      if (seen.has(id)) continue;
      seen.add(id);
      endpoints.push(endpoint);
    }
    reported = true;
    deliver(() => listener.onUpdate({ endpoints }));
    if (errors.length > 0) {
      const detail = errors.map((e) => e.message).join('; ');
      const note = new Error(`etcd resolver for "${deps.service}": skipped ${errors.length} invalid record(s): ${detail}`, { cause: errors[0] });
      deliver(() => listener.onError(note));
    }
  };

  const fail = (err: unknown): void => {
    if (phase === 'closed') return;
    const cause = err instanceof Error ? err : new Error(String(err));
    const delay = jitter(backoffBaseMs(failures, deps.initialBackoffMs, deps.maxBackoffMs), deps.random);
    failures++;
    phase = 'waiting';
    ++generation;
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (phase === 'waiting') attempt();
    }, delay);
    // Say what the channel does meanwhile; before any list there is none to keep.
    const effect = reported
      ? 'keeping the last endpoint list'
      : 'no endpoint list received yet, so none to keep: calls fail with UNAVAILABLE (wait-for-ready calls wait)';
    const error = new Error(
      `etcd resolver for "${deps.service}": etcd unavailable (${cause.message}); ${effect}; retrying in ${Math.round(delay)} ms`, { cause });
    deliver(() => listener.onError(error));
  };

  return {
    requestResolution() {
      if (phase === 'idle') {
        attempt();
      } else if (phase === 'waiting' && clock.now() - lastAttemptAt >= deps.minResolutionIntervalMs) {
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = undefined;
        attempt();
      }
    },
    close() {
      if (phase === 'closed') return;
      phase = 'closed';
      ++generation;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      watch?.cancel();
      watch = undefined;
      backend?.close();
    },
  };
}

/**
 * Call a listener method so that an exception in it neither stops the resolver nor vanishes: it is
 * rethrown on the next tick, where it surfaces as an uncaught exception (a bug in the caller).
 */
function deliver(call: () => void): void {
  try {
    call();
  } catch (err) {
    process.nextTick(() => {
      throw err;
    });
  }
}
