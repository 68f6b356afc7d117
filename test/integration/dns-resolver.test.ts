import { promises as dnsPromises } from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock';
import { addressKey } from '../../src/resolver/address';
import { dnsResolverFactory } from '../../src/resolver/dns';
import { parseTarget } from '../../src/resolver/target';
import '../../src/resolver'; // registers the built-in resolvers
import type { Resolver, ResolverContext, ResolverUpdate } from '../../src/resolver/types';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';

type ResolverEvent =
  | { readonly kind: 'update'; readonly at: number; readonly keys: string[]; readonly update: ResolverUpdate }
  | { readonly kind: 'error'; readonly at: number; readonly error: Error };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function context(refreshIntervalMs: number, minResolutionIntervalMs: number): ResolverContext {
  return { clock: systemClock, refreshIntervalMs, minResolutionIntervalMs, serviceConfigLookup: true, options: {} };
}

const open: Resolver[] = [];

/** A real DNS resolver on the real clock, recording what it reports. */
function watch(raw: string, ctx: ResolverContext) {
  const events: ResolverEvent[] = [];
  const resolver = dnsResolverFactory.create(parseTarget(raw), {
    onUpdate: (update) =>
      void events.push({ kind: 'update', at: Date.now(), keys: update.endpoints.map((e) => addressKey(e.addresses[0]!)), update }),
    onError: (error) => void events.push({ kind: 'error', at: Date.now(), error }),
  }, ctx);
  open.push(resolver);
  const updates = () => events.filter((e): e is Extract<ResolverEvent, { kind: 'update' }> => e.kind === 'update');
  const errors = () => events.filter((e): e is Extract<ResolverEvent, { kind: 'error' }> => e.kind === 'error');
  async function waitFor<E extends ResolverEvent>(
    predicate: (event: ResolverEvent) => event is E,
    what: string,
    timeoutMs = 20_000,
  ): Promise<E> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find(predicate);
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        const seen = events.map((e) => (e.kind === 'update' ? e.keys.join(' ') : `error: ${e.error.message}`));
        throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen)}`);
      }
      await sleep(25);
    }
  }
  const updateWith = (key: string) => (e: ResolverEvent): e is Extract<ResolverEvent, { kind: 'update' }> =>
    e.kind === 'update' && e.keys.includes(key);
  const anError = (e: ResolverEvent): e is Extract<ResolverEvent, { kind: 'error' }> => e.kind === 'error';
  return { resolver, events, updates, errors, waitFor, updateWith, anError };
}

afterEach(() => {
  for (const resolver of open.splice(0)) resolver.close();
});

describe('dns resolver: system resolver (getaddrinfo, /etc/hosts)', () => {
  it('resolves localhost without an authority', async () => {
    const w = watch('dns:///localhost:50051', context(60_000, 30_000));
    w.resolver.requestResolution();
    const update = await w.waitFor((e): e is Extract<ResolverEvent, { kind: 'update' }> => e.kind === 'update', 'an update');
    expect(update.keys.length).toBeGreaterThan(0);
    for (const key of update.keys) expect(key).toMatch(/^(127\.\d+\.\d+\.\d+|\[::1\]):50051$/);
  });
});

const available = checkDnsServerAvailable();

describe.skipIf(!available)('dns resolver against a real DNS server (dnsmasq)', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({
      records: {
        'svc.test': ['127.0.0.2', '::1', '127.0.0.2'],
        'v4only.test': ['127.0.0.3'],
        'refresh.test': ['127.0.0.2'],
        'limit.test': ['127.0.0.2'],
        'pause.test': ['127.0.0.2'],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });
  const target = (name: string) => `dns://${dns.address}/${name}:50051`;

  it('reports A and AAAA records as endpoints, duplicates removed', async () => {
    const w = watch(target('svc.test'), context(60_000, 30_000));
    w.resolver.requestResolution();
    const update = await w.waitFor(w.updateWith('127.0.0.2:50051'), 'svc.test');
    expect([...update.keys].sort()).toEqual(['127.0.0.2:50051', '[::1]:50051']);
    expect(update.update.serviceConfig).toBeNull(); // no TXT at _grpc_config.svc.test (gRFC A2)
    expect(w.errors()).toEqual([]);
  });

  it('treats a missing AAAA record (ENODATA) as "no IPv6 addresses"', async () => {
    const w = watch(target('v4only.test'), context(60_000, 30_000));
    w.resolver.requestResolution();
    const update = await w.waitFor(w.updateWith('127.0.0.3:50051'), 'v4only.test');
    expect(update.keys).toEqual(['127.0.0.3:50051']);
  });

  it('reports changed records at the next periodic refresh', async () => {
    const w = watch(target('refresh.test'), context(300, 100));
    w.resolver.requestResolution();
    await w.waitFor(w.updateWith('127.0.0.2:50051'), 'the first list');
    dns.setRecords('refresh.test', ['127.0.0.4', '127.0.0.5']);
    await dns.reload();
    const update = await w.waitFor(w.updateWith('127.0.0.4:50051'), 'the new list');
    expect(update.keys).toEqual(['127.0.0.4:50051', '127.0.0.5:50051']);
    expect(w.errors()).toEqual([]);
  });

  it('honours the minimum interval however often resolution is requested', async () => {
    const minIntervalMs = 1000;
    const w = watch(target('limit.test'), context(600_000, minIntervalMs));
    const firstStart = Date.now();
    w.resolver.requestResolution();
    await w.waitFor(w.updateWith('127.0.0.2:50051'), 'the first update');
    for (let i = 0; i < 20; i++) w.resolver.requestResolution();
    for (let i = 0; i < 10; i++) {
      await sleep(20);
      w.resolver.requestResolution();
    }
    const second = await w.waitFor(
      (e): e is Extract<ResolverEvent, { kind: 'update' }> => e.kind === 'update' && w.updates().indexOf(e as never) === 1,
      'the second update',
    );
    // The second query started no sooner than minIntervalMs after the first one did.
    expect(second.at - firstStart).toBeGreaterThanOrEqual(minIntervalMs);
    await sleep(2 * minIntervalMs);
    expect(w.updates()).toHaveLength(2); // all the requests coalesced into one resolution
    expect(w.errors()).toEqual([]);
  });

  it('reports NXDOMAIN via onError, then recovers when the name appears', async () => {
    const w = watch(target('late.test'), context(2000, 100));
    w.resolver.requestResolution();
    const error = await w.waitFor(w.anError, 'an error');
    expect(error.error.message).toContain('"late.test" does not exist (NXDOMAIN)');
    expect(w.updates()).toEqual([]);
    dns.setRecords('late.test', ['127.0.0.6']);
    await dns.reload();
    await w.waitFor(w.updateWith('127.0.0.6:50051'), 'recovery by a backoff retry');
  });

  it('survives a server that stops answering and recovers when it answers again', async () => {
    const w = watch(target('pause.test'), context(60_000, 100));
    w.resolver.requestResolution();
    await w.waitFor(w.updateWith('127.0.0.2:50051'), 'the first update');
    dns.pause();
    try {
      await sleep(150);
      w.resolver.requestResolution();
      const error = await w.waitFor(w.anError, 'a timeout error', 30_000);
      expect(error.error.message).toMatch(/pause\.test/);
      expect(error.error.message).toMatch(/ETIMEOUT|timed out/);
    } finally {
      await dns.resume();
    }
    const count = w.updates().length;
    const recovered = await w.waitFor(
      (e): e is Extract<ResolverEvent, { kind: 'update' }> => e.kind === 'update' && w.updates().indexOf(e as never) === count,
      'an update after resume',
      30_000,
    );
    expect(recovered.keys).toEqual(['127.0.0.2:50051']);
  });

  it('close() stops periodic refreshes', async () => {
    const w = watch(target('svc.test'), context(200, 50));
    w.resolver.requestResolution();
    await w.waitFor(w.updateWith('127.0.0.2:50051'), 'the first update');
    w.resolver.close();
    const count = w.events.length;
    await sleep(800);
    expect(w.events).toHaveLength(count);
  });
});

describe.skipIf(!available)('dns-server harness', () => {
  it('serves TXT records (restart on the same port) and keeps serving addresses', async () => {
    const dns = await startDnsServer({ records: { 'svc.test': ['127.0.0.2'] } });
    try {
      const port = dns.port;
      const json = JSON.stringify([{ serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] } }]);
      dns.setTxt('_grpc_config.svc.test', [`grpc_config=${json}`, 'a "quoted", \\ string']);
      await dns.reload();
      expect(dns.port).toBe(port);
      const resolver = new dnsPromises.Resolver({ timeout: 1000, tries: 2 });
      resolver.setServers([dns.address]);
      expect(await resolver.resolveTxt('_grpc_config.svc.test')).toEqual([[`grpc_config=${json}`, 'a "quoted", \\ string']]);
      expect(await resolver.resolve4('svc.test')).toEqual(['127.0.0.2']);
      await expect(resolver.resolve4('nothing.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      dns.setTxt('_grpc_config.svc.test', undefined);
      await dns.reload();
      await expect(resolver.resolveTxt('_grpc_config.svc.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    } finally {
      await dns.stop();
    }
  });

  it('refuses non-loopback records and names outside the zone', async () => {
    const dns = await startDnsServer();
    try {
      expect(() => dns.setRecords('x.test', ['10.0.0.1'])).toThrow(/not a loopback address/);
      expect(() => dns.setRecords('x.example', ['127.0.0.1'])).toThrow(/not under the zone/);
    } finally {
      await dns.stop();
    }
  });
});
