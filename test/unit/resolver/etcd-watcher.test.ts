import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import type { EtcdBackend, EtcdListing, EtcdWatchEvent, EtcdWatchHandlers } from '../../../src/resolver/etcd-client';
import { createEtcdServiceResolver } from '../../../src/resolver/etcd-watcher';
import type { Endpoint, Resolver, ResolverUpdate } from '../../../src/resolver/types';

interface FakeWatch {
  prefix: string;
  start: string;
  handlers: EtcdWatchHandlers;
  cancelled: boolean;
}

/** An in-memory etcd backend whose calls the test settles by hand. */
function fakeBackend() {
  const lists: { prefix: string; resolve(l: EtcdListing): void; reject(e: Error): void }[] = [];
  const watches: FakeWatch[] = [];
  let closed = false;
  const backend: EtcdBackend = {
    list(prefix) {
      return new Promise((resolve, reject) => lists.push({ prefix, resolve, reject }));
    },
    watch(prefix, start, handlers) {
      const w: FakeWatch = { prefix, start, handlers, cancelled: false };
      watches.push(w);
      return { cancel: () => void (w.cancelled = true) };
    },
    close() {
      closed = true;
    },
  };
  return { backend, lists, watches, isClosed: () => closed };
}

const kv = (key: string, addr: string, metadata?: unknown) => ({ key, value: Buffer.from(JSON.stringify({ Addr: addr, Metadata: metadata ?? null })) });
const put = (key: string, addr: string, rev: number): EtcdWatchEvent => ({ type: 'put', ...kv(key, addr), modRevision: String(rev) });
const del = (key: string, rev: number): EtcdWatchEvent => ({ type: 'delete', key, value: Buffer.alloc(0), modRevision: String(rev) });
const hosts = (u: ResolverUpdate | undefined) => u?.endpoints.map((e: Endpoint) => ('host' in e.addresses[0]! ? `${e.addresses[0].host}:${e.addresses[0].port}` : ''));

describe('etcd resolver state machine', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: ReturnType<typeof fakeBackend>;
  let updates: ResolverUpdate[];
  let errors: Error[];
  let resolver: Resolver;
  let connects: number;

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = fakeBackend();
    updates = [];
    errors = [];
    connects = 0;
    resolver = createEtcdServiceResolver({
      service: 'svc',
      connect: () => {
        connects++;
        return fake.backend;
      },
      listener: { onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) },
      clock: systemClock,
      random: () => 0.5,
      initialBackoffMs: 1_000,
      maxBackoffMs: 4_000,
      minResolutionIntervalMs: 30_000,
    });
  });

  afterEach(() => {
    resolver.close();
    clock.restore();
  });

  const flush = () => clock.tickAsync(0);

  it('does nothing before the first requestResolution, then lists and watches from revision + 1', async () => {
    await flush();
    expect(connects).toBe(0);
    resolver.requestResolution();
    expect(fake.lists).toHaveLength(1);
    expect(fake.lists[0]!.prefix).toBe('svc/');
    fake.lists[0]!.resolve({ revision: '41', kvs: [kv('svc/b', '10.0.0.2:2'), kv('svc/a', '10.0.0.1:1', { w: 1 })] });
    await flush();
    expect(hosts(updates[0])).toEqual(['10.0.0.1:1', '10.0.0.2:2']);
    expect(updates[0]!.endpoints[0]!.attributes).toEqual({ etcdKey: 'svc/a', metadata: { w: 1 } });
    expect(updates[0]!.serviceConfig).toBeUndefined();
    expect(fake.watches).toHaveLength(1);
    expect(fake.watches[0]!.start).toBe('42');
    expect(errors).toEqual([]);
  });

  it('applies puts and deletes and reports the full list each time', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [kv('svc/a', '10.0.0.1:1')] });
    await flush();
    const w = fake.watches[0]!;
    w.handlers.onCreated();
    w.handlers.onEvents([put('svc/b', '10.0.0.2:2', 6)]);
    expect(hosts(updates.at(-1))).toEqual(['10.0.0.1:1', '10.0.0.2:2']);
    w.handlers.onEvents([del('svc/a', 7), put('svc/c', '10.0.0.3:3', 8)]);
    expect(hosts(updates.at(-1))).toEqual(['10.0.0.2:2', '10.0.0.3:3']);
    expect(updates).toHaveLength(3);
  });

  it('reports an address registered under two keys once', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [kv('svc/a', '10.0.0.1:1'), kv('svc/b', '10.0.0.1:1')] });
    await flush();
    expect(hosts(updates[0])).toEqual(['10.0.0.1:1']);
  });

  it('skips invalid records with an onError note and keeps the rest', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [kv('svc/a', '10.0.0.1:1'), { key: 'svc/bad', value: Buffer.from('nope') }] });
    await flush();
    expect(hosts(updates[0])).toEqual(['10.0.0.1:1']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('etcd["svc/bad"]');
    // A put that makes a valid key invalid removes its endpoint.
    fake.watches[0]!.handlers.onEvents([{ type: 'put', key: 'svc/a', value: Buffer.from('{"Addr":"host:1"}'), modRevision: '6' }]);
    expect(hosts(updates.at(-1))).toEqual([]);
    expect(errors).toHaveLength(2);
  });

  it('keeps the last list when etcd fails, backs off on the clock and resumes the watch after the last revision', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [kv('svc/a', '10.0.0.1:1')] });
    await flush();
    fake.watches[0]!.handlers.onEvents([put('svc/b', '10.0.0.2:2', 9)]);
    fake.watches[0]!.handlers.onError(new Error('UNAVAILABLE'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/etcd unavailable \(UNAVAILABLE\); keeping the last endpoint list; retrying in 1000 ms$/);
    const updatesBefore = updates.length;
    await clock.tickAsync(799); // first delay: 1000 ms * (0.8 + 0.4 * 0.5) = 1000 ms
    expect(fake.watches).toHaveLength(1);
    await clock.tickAsync(201);
    expect(fake.watches).toHaveLength(2);
    expect(fake.watches[1]!.start).toBe('10');
    expect(fake.lists).toHaveLength(1);
    // Second failure before the watch was created: the delay grows by 1.6.
    fake.watches[1]!.handlers.onError(new Error('UNAVAILABLE'));
    await clock.tickAsync(1_599);
    expect(fake.watches).toHaveLength(2);
    await clock.tickAsync(1);
    expect(fake.watches).toHaveLength(3);
    expect(updates).toHaveLength(updatesBefore);
    // Created resets the backoff.
    fake.watches[2]!.handlers.onCreated();
    fake.watches[2]!.handlers.onError(new Error('again'));
    await clock.tickAsync(1_000);
    expect(fake.watches).toHaveLength(4);
  });

  // Breaking it (one message for both cases) claims a list is kept when the channel never had one.
  it('says plainly that there is no list to keep when etcd was never reached', async () => {
    resolver.requestResolution();
    fake.lists[0]!.reject(new Error('connect ECONNREFUSED'));
    await flush();
    expect(errors.map((e) => e.message)).toEqual([
      'etcd resolver for "svc": etcd unavailable (connect ECONNREFUSED); no endpoint list received yet, so none to keep: '
        + 'calls fail with UNAVAILABLE (wait-for-ready calls wait); retrying in 1000 ms',
    ]);
    expect(errors[0]!.message).not.toMatch(/keeping/);
  });

  it('caps the backoff at maxBackoffMs', async () => {
    resolver.requestResolution();
    for (let i = 0; i < 6; i++) {
      fake.lists[i]!.reject(new Error('down'));
      await flush();
      await clock.tickAsync(4_000);
    }
    expect(fake.lists).toHaveLength(7);
    expect(errors).toHaveLength(6);
    expect(updates).toHaveLength(0);
  });

  it('relists and re-watches when the watch revision was compacted', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [kv('svc/a', '10.0.0.1:1')] });
    await flush();
    fake.watches[0]!.handlers.onCompacted('20');
    expect(fake.lists).toHaveLength(2);
    fake.lists[1]!.resolve({ revision: '30', kvs: [kv('svc/z', '10.0.0.9:9')] });
    await flush();
    expect(hosts(updates.at(-1))).toEqual(['10.0.0.9:9']);
    expect(fake.watches[1]!.start).toBe('31');
    expect(errors).toEqual([]);
  });

  it('requestResolution is a no-op while watching and retries early only after minResolutionIntervalMs', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [] });
    await flush();
    resolver.requestResolution();
    resolver.requestResolution();
    expect(fake.lists).toHaveLength(1);
    expect(fake.watches).toHaveLength(1);
    // Long outage: the backoff grows past the rate limit.
    for (let i = 0; i < 4; i++) {
      fake.watches.at(-1)!.handlers.onError(new Error('down'));
      await clock.tickAsync(4_000);
    }
    fake.watches.at(-1)!.handlers.onError(new Error('down'));
    const count = fake.watches.length;
    resolver.requestResolution(); // last attempt 0 ms ago: rate-limited
    expect(fake.watches).toHaveLength(count);
    await clock.tickAsync(3_999);
    expect(fake.watches).toHaveLength(count);
    resolver.close();
    await clock.tickAsync(60_000);
    expect(fake.watches).toHaveLength(count);
  });

  it('requestResolution while waiting retries at once when the last attempt is old enough', async () => {
    resolver.close();
    const f = fakeBackend();
    const r = createEtcdServiceResolver({
      service: 'svc',
      connect: () => f.backend,
      listener: { onUpdate: () => undefined, onError: () => undefined },
      clock: systemClock,
      random: () => 0.5,
      initialBackoffMs: 1_000,
      maxBackoffMs: 4_000,
      minResolutionIntervalMs: 500,
    });
    r.requestResolution();
    f.lists[0]!.reject(new Error('down'));
    await clock.tickAsync(499);
    r.requestResolution();
    expect(f.lists).toHaveLength(1);
    await clock.tickAsync(1);
    r.requestResolution();
    expect(f.lists).toHaveLength(2);
    // The retry timer of the first failure was replaced, not left to fire a second attempt.
    await clock.tickAsync(2_000);
    expect(f.lists).toHaveLength(2);
    r.close();
  });

  it('close() cancels the watch, closes the backend and silences late results', async () => {
    resolver.requestResolution();
    fake.lists[0]!.resolve({ revision: '5', kvs: [] });
    await flush();
    const w = fake.watches[0]!;
    resolver.close();
    expect(w.cancelled).toBe(true);
    expect(fake.isClosed()).toBe(true);
    const seen = updates.length;
    w.handlers.onEvents([put('svc/a', '10.0.0.1:1', 6)]);
    w.handlers.onError(new Error('late'));
    await clock.tickAsync(60_000);
    expect(updates).toHaveLength(seen);
    expect(errors).toEqual([]);
    expect(clock.countTimers()).toBe(0);
  });

  it('close() during a list ignores its result and leaves no timer', async () => {
    resolver.requestResolution();
    resolver.close();
    fake.lists[0]!.reject(new Error('late'));
    await flush();
    expect(errors).toEqual([]);
    expect(fake.watches).toHaveLength(0);
    expect(clock.countTimers()).toBe(0);
  });

  it('a listener that closes the resolver inside onUpdate stops it', async () => {
    resolver.close();
    const f = fakeBackend();
    const r = createEtcdServiceResolver({
      service: 'svc',
      connect: () => f.backend,
      listener: { onUpdate: () => r.close(), onError: () => undefined },
      clock: systemClock,
      random: () => 0.5,
      initialBackoffMs: 1_000,
      maxBackoffMs: 4_000,
      minResolutionIntervalMs: 0,
    });
    r.requestResolution();
    f.lists[0]!.resolve({ revision: '1', kvs: [] });
    await flush();
    expect(f.watches).toHaveLength(0);
    expect(f.isClosed()).toBe(true);
  });
});
