import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock';
import { etcdResolverFactory } from '../../src/resolver/etcd';
import { registerEtcdEndpoint } from '../../src/resolver/etcd-register';
import type { Endpoint, Resolver, ResolverUpdate } from '../../src/resolver/types';
import { startTcpProxy, type TcpProxy } from '../helpers/etcd-proxy';
import { ETCD_SKIP_MESSAGE, etcdAvailable, startEtcd, type EtcdCluster } from '../helpers/etcd-server';

const available = etcdAvailable();
if (!available) console.warn(ETCD_SKIP_MESSAGE);

/** A resolver on `etcd:///<service>` with a recorder of everything it reports. */
function watchService(service: string, endpoints: readonly string[]) {
  const updates: ResolverUpdate[] = [];
  const errors: Error[] = [];
  const resolver: Resolver = etcdResolverFactory.create(
    { scheme: 'etcd', authority: '', path: service, raw: `etcd:///${service}` },
    { onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) },
    {
      clock: systemClock,
      refreshIntervalMs: 30_000,
      minResolutionIntervalMs: 1_000,
      serviceConfigLookup: false,
      options: { etcd: { endpoints: [...endpoints], initialBackoffMs: 100, maxBackoffMs: 500, requestTimeoutMs: 2_000 } },
    },
  );
  resolver.requestResolution();
  return {
    resolver,
    updates,
    errors,
    /** The addresses of the last update, as `host:port` or the unix path. */
    last: (): string[] | undefined => updates.at(-1)?.endpoints.map(show),
    waitFor: (expected: string[], timeoutMs = 15_000) => waitUntil(() => same(updates.at(-1)?.endpoints.map(show), expected), timeoutMs, () => `last update ${JSON.stringify(updates.at(-1)?.endpoints.map(show))}, wanted ${JSON.stringify(expected)}; errors: ${errors.map((e) => e.message).join(' | ')}`),
  };
}

function show(e: Endpoint): string {
  const a = e.addresses[0]!;
  return 'path' in a ? `unix:${a.path}` : `${a.host}:${a.port}`;
}

function same(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

async function waitUntil(predicate: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${explain()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const record = (addr: string, metadata: unknown = null) => JSON.stringify({ Addr: addr, Metadata: metadata });

describe.skipIf(!available)('etcd resolver against a real etcd', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const resolvers: Resolver[] = [];
  const track = <T extends { resolver: Resolver }>(w: T): T => {
    resolvers.push(w.resolver);
    return w;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: [...etcd.endpoints] });
  });

  afterEach(() => {
    for (const r of resolvers.splice(0)) r.close();
  });

  afterAll(async () => {
    client?.close();
    await etcd?.close();
  });

  it('lists the prefix, then sees puts and deletes', async () => {
    await client.put('list/10.0.0.1:1').value(record('10.0.0.1:1', { zone: 'a' }));
    await client.put('list/10.0.0.2:2').value(record('10.0.0.2:2'));
    await client.put('listing/10.9.9.9:9').value(record('10.9.9.9:9')); // another service sharing the text prefix
    const w = track(watchService('list', etcd.endpoints));
    await w.waitFor(['10.0.0.1:1', '10.0.0.2:2']);
    expect(w.updates.at(-1)!.endpoints[0]!.attributes).toEqual({ etcdKey: 'list/10.0.0.1:1', metadata: { zone: 'a' } });

    await client.put('list/[::1]:3').value(record('[::1]:3'));
    await w.waitFor(['10.0.0.1:1', '10.0.0.2:2', '::1:3']);
    await client.delete().key('list/10.0.0.1:1');
    await w.waitFor(['10.0.0.2:2', '::1:3']);
    await client.put('list/bad').value('{"Addr":"db.internal:5432"}');
    await waitUntil(() => w.errors.some((e) => e.message.includes('list/bad')), 10_000, () => 'no note for the invalid record');
    expect(w.last()).toEqual(['10.0.0.2:2', '::1:3']);
  });

  it('keeps the last list while etcd is frozen (SIGSTOP) and carries on after SIGCONT', async () => {
    await client.put('frozen/10.0.1.1:1').value(record('10.0.1.1:1'));
    const w = track(watchService('frozen', etcd.endpoints));
    await w.waitFor(['10.0.1.1:1']);
    const seen = w.updates.length;
    etcd.members[0]!.pause();
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(w.updates).toHaveLength(seen);
    } finally {
      etcd.members[0]!.resume();
    }
    await client.put('frozen/10.0.1.2:2').value(record('10.0.1.2:2'));
    await w.waitFor(['10.0.1.1:1', '10.0.1.2:2']);
  });

  it('keeps the last list while etcd is down, reports the outage, and resumes the watch when it is back', async () => {
    await client.put('outage/10.0.2.1:1').value(record('10.0.2.1:1'));
    const w = track(watchService('outage', etcd.endpoints));
    await w.waitFor(['10.0.2.1:1']);
    const seen = w.updates.length;
    await etcd.members[0]!.kill();
    await waitUntil(() => w.errors.length > 0, 10_000, () => 'no onError after etcd died');
    expect(w.errors[0]!.message).toMatch(/etcd unavailable/);
    await new Promise((r) => setTimeout(r, 700)); // several failed retries
    expect(w.updates).toHaveLength(seen);
    await etcd.members[0]!.restart();
    await client.put('outage/10.0.2.2:2').value(record('10.0.2.2:2'));
    await w.waitFor(['10.0.2.1:1', '10.0.2.2:2']);
  });

  describe('behind a proxy the test can cut', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(Number(etcd.members[0]!.endpoint.split(':')[1]));
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('relists when the revision to resume from was compacted away', async () => {
      await client.put('compact/10.0.3.1:1').value(record('10.0.3.1:1'));
      await client.put('compact/10.0.3.2:2').value(record('10.0.3.2:2'));
      const w = track(watchService('compact', [proxy.endpoint]));
      await w.waitFor(['10.0.3.1:1', '10.0.3.2:2']);
      proxy.block();
      await waitUntil(() => w.errors.length > 0, 10_000, () => 'no onError after the proxy cut');
      // While the resolver is cut off: change the service and compact its history.
      await client.delete().key('compact/10.0.3.1:1');
      await client.put('compact/10.0.3.3:3').value(record('10.0.3.3:3'));
      const head = await client.put('unrelated').value('x').exec();
      await client.kv.compact({ revision: head.header.revision, physical: true });
      const errorsBefore = w.errors.length;
      proxy.unblock();
      await w.waitFor(['10.0.3.2:2', '10.0.3.3:3']);
      // After the relist the watch is live again: later changes still arrive.
      await client.put('compact/10.0.3.4:4').value(record('10.0.3.4:4'));
      await w.waitFor(['10.0.3.2:2', '10.0.3.3:3', '10.0.3.4:4']);
      expect(w.errors.slice(errorsBefore).filter((e) => !/etcd unavailable/.test(e.message))).toEqual([]);
    });
  });

  it('registerEtcdEndpoint() writes the record under a lease and close() removes it at once', async () => {
    const w = track(watchService('reg', etcd.endpoints));
    await w.waitFor([]);
    const registration = await registerEtcdEndpoint({ endpoints: etcd.endpoints, service: 'reg', addr: '127.0.0.1:5001', metadata: { v: 2 }, ttlSeconds: 5 });
    expect(registration.key).toBe('reg/127.0.0.1:5001');
    await w.waitFor(['127.0.0.1:5001']);
    expect(w.updates.at(-1)!.endpoints[0]!.attributes).toEqual({ etcdKey: 'reg/127.0.0.1:5001', metadata: { v: 2 } });
    const stored = JSON.parse((await client.get('reg/127.0.0.1:5001').string())!);
    expect(stored).toEqual({ Addr: '127.0.0.1:5001', Metadata: { v: 2 } });
    const lease = (await client.get('reg/127.0.0.1:5001').exec()).kvs[0]!.lease;
    expect(lease).not.toBe('0');
    await registration.close();
    await registration.close();
    await w.waitFor([], 2_000);
  });

  it('registerEtcdEndpoint() grants a new lease and writes the record again when its lease is lost', async () => {
    const w = track(watchService('relost', etcd.endpoints));
    await w.waitFor([]);
    const registration = await registerEtcdEndpoint({ endpoints: etcd.endpoints, service: 'relost', addr: '127.0.0.1:5003', ttlSeconds: 3, initialBackoffMs: 100 });
    try {
      await w.waitFor(['127.0.0.1:5003']);
      const first = (await client.get('relost/127.0.0.1:5003').exec()).kvs[0]!.lease;
      // Revoking the lease behind the registrant's back deletes the record; the next keep-alive answers TTL 0.
      await client.leaseClient.leaseRevoke({ ID: first });
      await w.waitFor([]);
      await w.waitFor(['127.0.0.1:5003'], 10_000);
      const second = (await client.get('relost/127.0.0.1:5003').exec()).kvs[0]!.lease;
      expect(second).not.toBe(first);
    } finally {
      await registration.close();
    }
    await w.waitFor([], 2_000);
  });

  it('registerEtcdEndpoint() rejects invalid options with a ConfigError naming the field', async () => {
    await expect(registerEtcdEndpoint({ endpoints: etcd.endpoints, service: 'x', addr: 'db.internal:1' })).rejects.toMatchObject({ path: 'options.addr' });
    await expect(registerEtcdEndpoint({ endpoints: [], service: 'x', addr: '127.0.0.1:1' })).rejects.toMatchObject({ path: 'options.endpoints' });
    await expect(registerEtcdEndpoint({ endpoints: etcd.endpoints, service: 'x/', addr: '127.0.0.1:1' })).rejects.toMatchObject({ path: 'options.service' });
    await expect(registerEtcdEndpoint({ endpoints: etcd.endpoints, service: 'x', addr: '127.0.0.1:1', ttlSeconds: 0.5 })).rejects.toMatchObject({ path: 'options.ttlSeconds' });
  });

  it('a registrant that dies without close() disappears when its lease expires', async () => {
    const w = track(watchService('dead', etcd.endpoints));
    await w.waitFor([]);
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, join(__dirname, '../helpers/etcd-register-child.ts'),
        JSON.stringify({ endpoints: etcd.endpoints, service: 'dead', addr: '127.0.0.1:5002', ttlSeconds: 2 })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('registered')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`registrant exited with ${code}`)));
      });
      await w.waitFor(['127.0.0.1:5002']);
      // Keep-alives hold the record well past the TTL while the process lives.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(w.last()).toEqual(['127.0.0.1:5002']);
    } finally {
      child.kill('SIGKILL');
    }
    await w.waitFor([], 10_000);
  });
});
