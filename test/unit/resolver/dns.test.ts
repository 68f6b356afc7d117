import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { ConfigError } from '../../../src/errors';
import { createDnsResolverFactory, dnsResolverFactory } from '../../../src/resolver/dns';
import type { DnsQueriesFactory } from '../../../src/resolver/dns-queries';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import type { Resolver, ResolverContext, ResolverUpdate } from '../../../src/resolver/types';

interface PendingQuery {
  readonly host: string;
  readonly server: string | undefined;
  /** Fake time at which the query was sent. */
  readonly at: number;
  resolve(ips: string[]): void;
  reject(error: unknown): void;
}

/** Address queries that wait for the test to answer them; TXT answers NXDOMAIN at once (no config). */
function fakeDns() {
  const queries: PendingQuery[] = [];
  const txtNames: string[] = [];
  const servers: (string | undefined)[] = [];
  let cancels = 0;
  const factory: DnsQueriesFactory = (server) => {
    servers.push(server);
    return {
      addresses: (host) =>
        new Promise<string[]>((resolve, reject) => queries.push({ host, server, at: Date.now(), resolve, reject })),
      txt: (name) => {
        txtNames.push(name);
        return Promise.reject(dnsError('ENOTFOUND', name));
      },
      cancel: () => {
        cancels++;
      },
    };
  };
  return {
    queries,
    txtNames,
    servers,
    factory,
    cancels: () => cancels,
    last: () => queries[queries.length - 1]!,
    times: () => queries.map((q) => q.at),
  };
}

function dnsError(code: string, host = 'svc.test'): Error {
  return Object.assign(new Error(`query ${code} ${host}`), { code });
}

function recorder() {
  const updates: ResolverUpdate[] = [];
  const errors: Error[] = [];
  return {
    updates,
    errors,
    listener: { onUpdate: (u: ResolverUpdate) => void updates.push(u), onError: (e: Error) => void errors.push(e) },
  };
}

function context(refreshIntervalMs: number, minResolutionIntervalMs: number): ResolverContext {
  return { clock: systemClock, refreshIntervalMs, minResolutionIntervalMs, serviceConfigLookup: true, options: {} };
}

describe('dns resolver (fake timers)', () => {
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

  function start(raw: string, ctx = context(60_000, 30_000), queryTimeoutMs = 600_000) {
    const dns = fakeDns();
    const rec = recorder();
    resolver = createDnsResolverFactory({ queries: dns.factory, queryTimeoutMs }).create(parseTarget(raw), rec.listener, ctx);
    return { dns, ...rec, resolver };
  }

  it('does no I/O before requestResolution(), then resolves at once', async () => {
    const { dns, updates, resolver } = start('dns:///svc.test:50051');
    expect(dns.servers).toEqual([undefined]);
    await clock.tickAsync(120_000);
    expect(dns.queries).toHaveLength(0);
    resolver.requestResolution();
    expect(dns.queries).toHaveLength(1);
    expect(dns.last().host).toBe('svc.test');
    dns.last().resolve(['127.0.0.2', '::1', '127.0.0.2']);
    await clock.tickAsync(0);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toEqual({
      endpoints: [{ addresses: [{ host: '127.0.0.2', port: 50051 }] }, { addresses: [{ host: '::1', port: 50051 }] }],
      serviceConfig: null,
    });
    // gRFC A2: the service config lives at _grpc_config.<host>; no record means null.
    expect(dns.txtNames).toEqual(['_grpc_config.svc.test']);
  });

  it('defaults the port to 443 and passes the authority as the DNS server', async () => {
    const { dns, updates, resolver } = start('dns://127.0.0.1:5353/svc.test');
    expect(dns.servers).toEqual(['127.0.0.1:5353']);
    resolver.requestResolution();
    dns.last().resolve(['127.0.0.3']);
    await clock.tickAsync(0);
    expect(updates[0]!.endpoints).toEqual([{ addresses: [{ host: '127.0.0.3', port: 443 }] }]);
    expect(start('dns://[::1]/svc.test').dns.servers).toEqual(['[::1]:53']);
  });

  it('re-resolves every refreshIntervalMs, re-armed after each resolution', async () => {
    const { dns, updates, resolver } = start('dns:///svc.test:1', context(60_000, 30_000));
    resolver.requestResolution();
    await clock.tickAsync(100);
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(60_000 - 1);
    expect(dns.queries).toHaveLength(1);
    await clock.tickAsync(1);
    expect(dns.times()).toEqual([0, 60_100]);
    await clock.tickAsync(50);
    dns.last().resolve(['127.0.0.2', '127.0.0.3']);
    await clock.tickAsync(60_000);
    expect(dns.times()).toEqual([0, 60_100, 120_150]);
    expect(updates.map((u) => u.endpoints.length)).toEqual([1, 2]);
  });

  it('rate-limits requestResolution(): requests inside the interval coalesce into one at its end', async () => {
    const { dns, resolver } = start('dns:///svc.test:1', context(60_000, 30_000));
    resolver.requestResolution();
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(1000);
    resolver.requestResolution();
    resolver.requestResolution();
    await clock.tickAsync(4000);
    resolver.requestResolution();
    await clock.tickAsync(30_000 - 5000 - 1);
    expect(dns.times()).toEqual([0]);
    await clock.tickAsync(1);
    expect(dns.times()).toEqual([0, 30_000]);
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(1000);
    resolver.requestResolution(); // at 31 000: allowed at 60 000
    await clock.tickAsync(60_000 - 31_000);
    expect(dns.times()).toEqual([0, 30_000, 60_000]);
    dns.last().resolve(['127.0.0.2']);
    // The periodic timer is re-armed after that run: 120 000, not 90 000.
    await clock.tickAsync(60_000 - 1);
    expect(dns.times()).toEqual([0, 30_000, 60_000]);
    await clock.tickAsync(1);
    expect(dns.times()).toEqual([0, 30_000, 60_000, 120_000]);
  });

  it('never starts a periodic resolution sooner than the minimum interval', async () => {
    const { dns, resolver } = start('dns:///svc.test:1', context(1000, 5000));
    resolver.requestResolution();
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(4999);
    expect(dns.times()).toEqual([0]);
    await clock.tickAsync(1);
    expect(dns.times()).toEqual([0, 5000]);
  });

  it('keeps one query in flight; a request meanwhile runs once the interval allows', async () => {
    const { dns, resolver } = start('dns:///svc.test:1', context(60_000, 30_000));
    resolver.requestResolution();
    resolver.requestResolution();
    await clock.tickAsync(100);
    resolver.requestResolution();
    expect(dns.queries).toHaveLength(1);
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(30_000 - 100 - 1);
    expect(dns.times()).toEqual([0]);
    await clock.tickAsync(1);
    expect(dns.times()).toEqual([0, 30_000]);
    // A slow query (longer than the interval) with a request during it: the next one starts right away.
    await clock.tickAsync(40_000);
    resolver.requestResolution();
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(dns.times()).toEqual([0, 30_000, 70_000]);
  });

  it('retries failures with backoff 1 s x1.6 capped at the refresh interval, exempt from the rate limit', async () => {
    const { dns, errors, updates, resolver } = start('dns:///svc.test:1', context(10_000, 30_000));
    resolver.requestResolution();
    for (let i = 0; i < 8; i++) {
      dns.last().reject(dnsError('ESERVFAIL'));
      await clock.tickAsync(0);
      expect(clock.countTimers()).toBe(1); // the retry; nothing else pending
      await clock.nextAsync();
    }
    const gaps = dns.times().slice(1).map((t, i) => t - dns.times()[i]!);
    expect(gaps).toEqual([1000, 1600, 2560, 4096, 6554, 10_000, 10_000, 10_000]);
    expect(errors).toHaveLength(8);
    expect(updates).toHaveLength(0);
    expect(errors[0]!.message).toBe('dns: cannot resolve "svc.test": query ESERVFAIL svc.test');
    expect((errors[0] as Error & { cause?: unknown }).cause).toMatchObject({ code: 'ESERVFAIL' });

    // A success resets the backoff.
    const before = dns.queries.length;
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(30_000);
    expect(dns.queries).toHaveLength(before + 1);
    dns.last().reject(dnsError('ETIMEOUT'));
    await clock.tickAsync(1000);
    expect(dns.queries).toHaveLength(before + 2);
    expect(updates).toHaveLength(1);
  });

  it('reports an answer without addresses via onError and keeps retrying', async () => {
    const { dns, errors, updates, resolver } = start('dns:///svc.test:1');
    resolver.requestResolution();
    dns.last().resolve([]);
    await clock.tickAsync(0);
    expect(updates).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['dns: "svc.test" has no A or AAAA records']);
    await clock.tickAsync(1000);
    expect(dns.queries).toHaveLength(2);
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(updates).toHaveLength(1);
  });

  it('gives up on a query that never answers after queryTimeoutMs, cancels it and ignores its late answer', async () => {
    const { dns, errors, updates, resolver } = start('dns:///svc.test:1', context(60_000, 30_000), 5000);
    resolver.requestResolution();
    await clock.tickAsync(4999);
    expect(errors).toHaveLength(0);
    await clock.tickAsync(1);
    expect(errors.map((e) => e.message)).toEqual(['dns: resolving "svc.test" timed out after 5000 ms']);
    expect(dns.cancels()).toBe(1);
    await clock.tickAsync(1000);
    expect(dns.times()).toEqual([0, 6000]);
    dns.queries[0]!.resolve(['127.0.0.9']);
    await clock.tickAsync(0);
    expect(updates).toHaveLength(0);
    dns.queries[1]!.resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(updates.map((u) => u.endpoints)).toEqual([[{ addresses: [{ host: '127.0.0.2', port: 1 }] }]]);
  });

  it('treats a query function that throws synchronously as a failed resolution', async () => {
    const errors: Error[] = [];
    const throwing: DnsQueriesFactory = () => ({
      addresses: () => {
        throw new Error('boom');
      },
      txt: () => Promise.resolve([]),
      cancel() {},
    });
    resolver = createDnsResolverFactory({ queries: throwing }).create(
      parseTarget('dns:///svc.test:1'),
      { onUpdate() {}, onError: (e) => void errors.push(e) },
      context(60_000, 30_000),
    );
    resolver.requestResolution();
    await clock.tickAsync(0);
    expect(errors.map((e) => e.message)).toEqual(['dns: cannot resolve "svc.test": boom']);
    await clock.tickAsync(1000);
    expect(errors).toHaveLength(2);
  });

  it('close() clears every timer, cancels queries and drops in-flight answers', async () => {
    const { dns, updates, errors, resolver } = start('dns:///svc.test:1', context(60_000, 30_000), 5000);
    resolver.requestResolution();
    dns.last().resolve(['127.0.0.2']);
    await clock.tickAsync(0);
    expect(clock.countTimers()).toBe(1); // the periodic refresh
    await clock.tickAsync(60_000);
    expect(dns.queries).toHaveLength(2);
    expect(clock.countTimers()).toBe(1); // the watchdog of the query in flight
    resolver.close();
    expect(clock.countTimers()).toBe(0);
    expect(dns.cancels()).toBe(1);
    dns.last().resolve(['127.0.0.3']);
    resolver.requestResolution();
    await clock.tickAsync(600_000);
    expect(updates).toHaveLength(1);
    expect(errors).toHaveLength(0);
    expect(dns.queries).toHaveLength(2);
    expect(clock.countTimers()).toBe(0);
  });

  it('close() during backoff leaves no timer', async () => {
    const { dns, resolver } = start('dns:///svc.test:1');
    resolver.requestResolution();
    dns.last().reject(dnsError('ENOTFOUND'));
    await clock.tickAsync(0);
    expect(clock.countTimers()).toBe(1);
    resolver.close();
    expect(clock.countTimers()).toBe(0);
  });

  it('reports an IP-literal host without lookup or timers', async () => {
    for (const [raw, host] of <Array<[string, string]>>[
      ['dns:///127.0.0.1:50051', '127.0.0.1'],
      ['dns:///[::1]:50051', '::1'],
      ['127.0.0.1:50051', '127.0.0.1'],
    ]) {
      const { dns, updates, resolver } = start(raw);
      resolver.requestResolution();
      await clock.tickAsync(0);
      expect(dns.servers).toEqual([]);
      expect(updates).toEqual([{ endpoints: [{ addresses: [{ host, port: 50051 }] }] }]);
      expect(clock.countTimers()).toBe(0);
      resolver.close();
    }
  });

  it('default authority is the host:port path', () => {
    expect(dnsResolverFactory.defaultAuthority(parseTarget('dns:///svc.test:50051'))).toBe('svc.test:50051');
    expect(dnsResolverFactory.defaultAuthority(parseTarget('localhost:50051'))).toBe('localhost:50051');
    expect(dnsResolverFactory.defaultAuthority(parseTarget('dns://127.0.0.1:53/svc.test'))).toBe('svc.test');
  });
});

describe('dns resolver: create() validation', () => {
  const ctx = context(30_000, 30_000);
  function createError(raw: string, c: ResolverContext = ctx): ConfigError {
    try {
      dnsResolverFactory.create(parseTarget(raw), { onUpdate() {}, onError() {} }, c).close();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error(`${raw} was accepted`);
  }

  it.each<[string, RegExp]>([
    ['dns:///', /^dns target names no host$/],
    ['dns://127.0.0.1', /^dns target names no host$/],
    ['dns:///svc.test:0', /port "0" must be an integer in \[1, 65535\]/],
    ['dns:///svc.test:', /port "" must be an integer/],
    ['dns:///bad_host-', /dns host "bad_host-" is neither a host name nor an IP literal/],
    ['dns:///1.2.3.999:80', /dns host "1.2.3.999" is neither a host name nor an IP literal/],
    ['dns:///a b', /neither a host name/],
    ['dns://resolver.local/svc.test', /dns server \(authority\) must be IP\[:port\]: "resolver.local" is not an IP literal/],
    ['dns://127.0.0.1:99999/svc.test', /dns server \(authority\) must be IP\[:port\]: port "99999"/],
  ])('%s is rejected', (raw, rule) => {
    const error = createError(raw);
    expect(error.path).toBe('target');
    expect(error.rule).toMatch(rule);
  });

  it('rejects unusable intervals', () => {
    expect(createError('dns:///svc.test', context(0, 1000)).path).toBe('options.dnsRefreshIntervalMs');
    expect(createError('dns:///svc.test', context(Number.POSITIVE_INFINITY, 1000)).path).toBe('options.dnsRefreshIntervalMs');
    expect(createError('dns:///svc.test', context(1000, -1)).path).toBe('options.minResolutionIntervalMs');
    expect(createError('dns:///svc.test', context(1000, Number.NaN)).path).toBe('options.minResolutionIntervalMs');
  });
});
