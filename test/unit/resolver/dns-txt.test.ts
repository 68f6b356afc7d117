import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { ConfigError } from '../../../src/errors';
import { createDnsResolverFactory } from '../../../src/resolver/dns';
import type { DnsQueriesFactory } from '../../../src/resolver/dns-queries';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import type { Resolver, ResolverContext, ResolverUpdate } from '../../../src/resolver/types';

interface Pending<T> {
  readonly name: string;
  readonly at: number;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Address and TXT queries that wait for the test to answer them. */
function fakeDns() {
  const addresses: Pending<string[]>[] = [];
  const txt: Pending<string[][]>[] = [];
  let cancels = 0;
  const factory: DnsQueriesFactory = () => ({
    addresses: (name) => new Promise((resolve, reject) => addresses.push({ name, at: Date.now(), resolve, reject })),
    txt: (name) => new Promise((resolve, reject) => txt.push({ name, at: Date.now(), resolve, reject })),
    cancel: () => void cancels++,
  });
  return { addresses, txt, factory, cancels: () => cancels };
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`query ${code}`), { code });
}

function record(choices: unknown): string[] {
  return [`grpc_config=${JSON.stringify(choices)}`];
}

const rr = { loadBalancingConfig: [{ round_robin: {} }] };
const pf = { loadBalancingConfig: [{ pick_first: {} }] };
const ENDPOINTS = [{ addresses: [{ host: '127.0.0.2', port: 1 }] }];

function context(serviceConfigLookup: boolean): ResolverContext {
  return { clock: systemClock, refreshIntervalMs: 60_000, minResolutionIntervalMs: 30_000, serviceConfigLookup, options: {} };
}

describe('dns resolver: gRFC A2 service config wiring (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  let resolver: Resolver | undefined;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    resolver?.close();
    resolver = undefined;
    clock.restore();
  });

  function start(options: { lookup?: boolean; random?: () => number; queryTimeoutMs?: number } = {}) {
    const dns = fakeDns();
    const updates: ResolverUpdate[] = [];
    const errors: Error[] = [];
    resolver = createDnsResolverFactory({
      queries: dns.factory,
      queryTimeoutMs: options.queryTimeoutMs ?? 600_000,
      serviceConfigLookup: { random: options.random ?? (() => 0.5), hostname: () => 'client-1' },
    }).create(
      parseTarget('dns:///svc.test:1'),
      { onUpdate: (u) => void updates.push(u), onError: (e) => void errors.push(e) },
      context(options.lookup ?? true),
    );
    return { dns, updates, errors, resolver };
  }

  it('asks TXT at _grpc_config.<host> together with the addresses and reports both in one update', async () => {
    const { dns, updates, resolver } = start();
    resolver.requestResolution();
    expect(dns.addresses.map((q) => q.name)).toEqual(['svc.test']);
    expect(dns.txt.map((q) => [q.name, q.at])).toEqual([['_grpc_config.svc.test', 0]]);
    dns.addresses[0]!.resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(updates).toEqual([]); // waits for the TXT answer
    dns.txt[0]!.resolve([record([{ serviceConfig: rr }])]);
    await clock.tickAsync(0);
    expect(updates).toEqual([{ endpoints: ENDPOINTS, serviceConfig: rr }]);
  });

  it('sends no TXT query when serviceConfigLookup is off; updates carry serviceConfig undefined', async () => {
    const { dns, updates, resolver } = start({ lookup: false });
    resolver.requestResolution();
    dns.addresses[0]!.resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(dns.txt).toEqual([]);
    expect(updates).toEqual([{ endpoints: ENDPOINTS, serviceConfig: undefined }]);
    expect('serviceConfig' in updates[0]!).toBe(true);
  });

  it('a TXT failure does not fail the addresses: serviceConfig undefined (the channel keeps its config)', async () => {
    const { dns, updates, errors, resolver } = start();
    resolver.requestResolution();
    dns.txt[0]!.reject(dnsError('ESERVFAIL'));
    dns.addresses[0]!.resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(errors).toEqual([]);
    expect(updates).toEqual([{ endpoints: ENDPOINTS, serviceConfig: undefined }]);
  });

  it('a TXT query still pending at the watchdog: the addresses are reported without a config', async () => {
    const { dns, updates, errors, resolver } = start({ queryTimeoutMs: 5000 });
    resolver.requestResolution();
    dns.addresses[0]!.resolve(['127.0.0.2']);
    await clock.tickAsync(4999);
    expect(updates).toEqual([]);
    await clock.tickAsync(1);
    expect(dns.cancels()).toBe(1);
    expect(errors).toEqual([]);
    expect(updates).toEqual([{ endpoints: ENDPOINTS, serviceConfig: undefined }]);
    // Counted as a success: the next resolution is the periodic one, not a backoff retry.
    dns.txt[0]!.resolve([record([{ serviceConfig: rr }])]);
    await clock.tickAsync(60_000 - 1);
    expect(dns.addresses).toHaveLength(1);
    await clock.tickAsync(1);
    expect(dns.addresses).toHaveLength(2);
    expect(updates).toHaveLength(1);
  });

  it('address failures still fail the resolution whatever the TXT answer', async () => {
    const { dns, updates, errors, resolver } = start();
    resolver.requestResolution();
    dns.txt[0]!.resolve([record([{ serviceConfig: rr }])]);
    dns.addresses[0]!.reject(dnsError('ENOTFOUND'));
    await clock.tickAsync(0);
    expect(updates).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['dns: cannot resolve "svc.test": query ENOTFOUND']);
    await clock.tickAsync(1000);
    dns.addresses[1]!.resolve([]);
    await clock.tickAsync(0);
    expect(errors.map((e) => e.message).at(-1)).toBe('dns: "svc.test" has no A or AAAA records');
  });

  it('reports an invalid record as serviceConfigError next to the endpoints', async () => {
    const { dns, updates, resolver } = start();
    resolver.requestResolution();
    dns.addresses[0]!.resolve(['127.0.0.2']);
    dns.txt[0]!.resolve([record([{ serviceConfig: rr, clientLanguages: ['node'] }])]);
    await clock.tickAsync(0);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.endpoints).toEqual(ENDPOINTS);
    expect(updates[0]!.serviceConfig).toBeUndefined();
    expect(updates[0]!.serviceConfigError).toBeInstanceOf(ConfigError);
    expect((updates[0]!.serviceConfigError as ConfigError).path).toBe('_grpc_config.svc.test[0].clientLanguages');
  });

  it('keeps one percentage draw for the life of the resolver', async () => {
    let draws = 0;
    const { dns, updates, resolver } = start({ random: () => (draws++ === 0 ? 0.1 : 0.9) });
    const canary = [record([{ percentage: 20, serviceConfig: rr }, { serviceConfig: pf }])];
    resolver.requestResolution();
    for (let i = 0; i < 3; i++) {
      dns.addresses.at(-1)!.resolve(['127.0.0.2']);
      dns.txt.at(-1)!.resolve(canary);
      await clock.tickAsync(60_000);
    }
    expect(dns.txt).toHaveLength(4);
    expect(updates.map((u) => u.serviceConfig)).toEqual([rr, rr, rr]);
    expect(draws).toBe(1);
  });
});
