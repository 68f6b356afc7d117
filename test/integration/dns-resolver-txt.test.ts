/**
 * The DNS resolver's gRFC A2 service config lookup against a real DNS server (dnsmasq,
 * `test/helpers/dns-server.ts`): TXT at `_grpc_config.<host>`, choice selection, size bound, the
 * `serviceConfigLookup` switch and changes picked up by re-resolution.
 */
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock';
import { ConfigError } from '../../src/errors';
import { createDnsResolverFactory, type DnsResolverFactoryOptions } from '../../src/resolver/dns';
import { systemDnsQueries } from '../../src/resolver/dns-queries';
import { parseTarget } from '../../src/resolver/target';
import '../../src/resolver'; // registers the built-in resolvers
import type { Resolver, ResolverContext, ResolverUpdate } from '../../src/resolver/types';
import { waitFor } from '../helpers/channel-wait';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';

const rr = { loadBalancingConfig: [{ round_robin: {} }] };
const pf = { loadBalancingConfig: [{ pick_first: {} }] };
const timeout = (s: string) => ({ methodConfig: [{ name: [{ service: 'a.B' }], timeout: s }] });

/** One TXT record `grpc_config=<json>` in 255-byte strings, as DNS carries it. */
function grpcConfig(choices: unknown): string[] {
  const text = `grpc_config=${JSON.stringify(choices)}`;
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += 255) strings.push(text.slice(i, i + 255));
  return strings;
}

function context(serviceConfigLookup: boolean, refreshIntervalMs = 60_000): ResolverContext {
  return { clock: systemClock, refreshIntervalMs, minResolutionIntervalMs: 100, serviceConfigLookup, options: {} };
}

const open: Resolver[] = [];
afterEach(() => {
  for (const resolver of open.splice(0)) resolver.close();
});

describe.skipIf(!checkDnsServerAvailable())('dns resolver: service config from TXT (gRFC A2, dnsmasq)', () => {
  let dns: TestDnsServer;
  const NAMES = ['svc', 'bare', 'canary', 'big', 'bad', 'change'].map((n) => `${n}.test`);

  beforeAll(async () => {
    dns = await startDnsServer({
      records: Object.fromEntries(NAMES.map((name) => [name, ['127.0.0.2']])),
      txt: {
        '_grpc_config.svc.test': grpcConfig([{ serviceConfig: rr }]),
        'svc.test': grpcConfig([{ serviceConfig: pf }]),
        'bare.test': grpcConfig([{ serviceConfig: rr }]),
        '_grpc_config.canary.test': grpcConfig([
          { clientLanguage: ['go', 'java'], serviceConfig: timeout('1s') },
          { clientLanguage: ['NODE'], clientHostname: [hostname()], percentage: 40, serviceConfig: timeout('2s') },
          { clientHostname: [`not-${hostname()}`], serviceConfig: timeout('3s') },
          { serviceConfig: timeout('4s') },
        ]),
        '_grpc_config.big.test': grpcConfig([{ serviceConfig: { ...rr, methodConfig: [{ name: [{ service: 'x'.repeat(500) }] }] } }]),
        '_grpc_config.bad.test': grpcConfig([{ serviceConfig: rr }, { percentage: 'half', serviceConfig: pf }]),
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  /** Start a resolver on the dnsmasq server; records its updates, errors and TXT names queried. */
  function watch(name: string, ctx: ResolverContext, options: DnsResolverFactoryOptions = {}) {
    const updates: ResolverUpdate[] = [];
    const errors: Error[] = [];
    const txtNames: string[] = [];
    const factory = createDnsResolverFactory({
      ...options,
      queries: (server) => {
        const real = systemDnsQueries(server);
        return { ...real, txt: (n) => (txtNames.push(n), real.txt(n)) };
      },
    });
    const resolver = factory.create(
      parseTarget(`dns://${dns.address}/${name}:50051`),
      { onUpdate: (u) => void updates.push(u), onError: (e) => void errors.push(e) },
      ctx,
    );
    open.push(resolver);
    resolver.requestResolution();
    const first = async (): Promise<ResolverUpdate> => {
      await waitFor(() => updates.length > 0 || errors.length > 0, `an update for ${name}`, 20_000);
      expect(errors).toEqual([]);
      return updates[0]!;
    };
    return { updates, errors, txtNames, first };
  }

  it('reads TXT at _grpc_config.<host> and ignores the bare host', async () => {
    const w = watch('svc.test', context(true));
    const update = await w.first();
    expect(update.endpoints).toEqual([{ addresses: [{ host: '127.0.0.2', port: 50051 }] }]);
    expect(update.serviceConfig).toEqual(rr);
    expect(w.txtNames).toEqual(['_grpc_config.svc.test']);

    const bare = watch('bare.test', context(true));
    expect((await bare.first()).serviceConfig).toBeNull();
    expect(bare.txtNames).toEqual(['_grpc_config.bare.test']);
  });

  it('sends no TXT query when serviceConfigLookup is off', async () => {
    const w = watch('svc.test', context(false));
    const update = await w.first();
    expect(update.serviceConfig).toBeUndefined();
    expect(w.txtNames).toEqual([]);
  });

  it('selects by clientLanguage, percentage and clientHostname', async () => {
    // 0.3 * 100 < 40: in the canary; the "node" choice for this host wins over the catch-all.
    const inCanary = watch('canary.test', context(true), { serviceConfigLookup: { random: () => 0.3 } });
    expect((await inCanary.first()).serviceConfig).toEqual(timeout('2s'));
    const outOfCanary = watch('canary.test', context(true), { serviceConfigLookup: { random: () => 0.4 } });
    expect((await outOfCanary.first()).serviceConfig).toEqual(timeout('4s'));
    const otherHost = watch('canary.test', context(true), {
      serviceConfigLookup: { random: () => 0.3, hostname: () => `not-${hostname()}` },
    });
    expect((await otherHost.first()).serviceConfig).toEqual(timeout('3s'));
  });

  it('accepts a record split over several strings and bounds its size', async () => {
    const ok = watch('big.test', context(true));
    const config = (await ok.first()).serviceConfig as { methodConfig: { name: { service: string }[] }[] };
    expect(config.methodConfig[0]!.name[0]!.service).toHaveLength(500);

    const bounded = watch('big.test', context(true), { serviceConfigLookup: { maxBytes: 400 } });
    const update = await bounded.first();
    expect(update.endpoints).toHaveLength(1); // the addresses still count
    expect(update.serviceConfig).toBeUndefined();
    expect(update.serviceConfigError).toBeInstanceOf(ConfigError);
    expect((update.serviceConfigError as ConfigError).path).toBe('_grpc_config.big.test');
    expect(update.serviceConfigError?.message).toMatch(/at most 400 bytes/);
  });

  it('reports an invalid record as serviceConfigError with the field path', async () => {
    const update = await watch('bad.test', context(true)).first();
    expect(update.endpoints).toHaveLength(1);
    expect((update.serviceConfigError as ConfigError).path).toBe('_grpc_config.bad.test[1].percentage');
  });

  it('follows TXT changes at re-resolution: new config, invalid, removed', async () => {
    const w = watch('change.test', context(true, 300));
    expect((await w.first()).serviceConfig).toBeNull();
    const next = async (what: string, done: (u: ResolverUpdate) => boolean): Promise<ResolverUpdate> => {
      const from = w.updates.length;
      await waitFor(() => w.updates.slice(from).some(done), what, 20_000);
      return w.updates.slice(from).find(done)!;
    };
    dns.setTxt('_grpc_config.change.test', grpcConfig([{ serviceConfig: rr }]));
    await dns.reload();
    await next('the new config', (u) => JSON.stringify(u.serviceConfig) === JSON.stringify(rr));
    dns.setTxt('_grpc_config.change.test', ['grpc_config=[{"serviceConfig":']);
    await dns.reload();
    const invalid = await next('the invalid config', (u) => u.serviceConfigError !== undefined);
    expect(invalid.serviceConfigError?.message).toMatch(/^_grpc_config\.change\.test: grpc_config value must be JSON/);
    dns.setTxt('_grpc_config.change.test', undefined);
    await dns.reload();
    await next('no config', (u) => u.serviceConfig === null);
  });
});
