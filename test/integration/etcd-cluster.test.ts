import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock';
import { etcdResolverFactory } from '../../src/resolver/etcd';
import type { ResolverUpdate } from '../../src/resolver/types';
import { ETCD_SKIP_MESSAGE, etcdAvailable, startEtcdCluster, type EtcdCluster } from '../helpers/etcd-server';

const available = etcdAvailable();
if (!available) console.warn(ETCD_SKIP_MESSAGE);

const record = (addr: string) => JSON.stringify({ Addr: addr, Metadata: null });

function hosts(update: ResolverUpdate | undefined): string[] | undefined {
  return update?.endpoints.map((e) => {
    const a = e.addresses[0]!;
    return 'path' in a ? a.path : `${a.host}:${a.port}`;
  });
}

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!available)('etcd resolver against a 3-member cluster', () => {
  let cluster: EtcdCluster;

  beforeAll(async () => {
    cluster = await startEtcdCluster(3);
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('keeps working through the loss of the leader and sees later puts', async () => {
    const writer = new Etcd3({ hosts: [...cluster.endpoints] });
    const updates: ResolverUpdate[] = [];
    const errors: Error[] = [];
    // The endpoints come in the target's authority here.
    const resolver = etcdResolverFactory.create(
      { scheme: 'etcd', authority: cluster.endpoints.join(','), path: 'ha', raw: `etcd://${cluster.endpoints.join(',')}/ha` },
      { onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) },
      {
        clock: systemClock,
        refreshIntervalMs: 30_000,
        minResolutionIntervalMs: 1_000,
        serviceConfigLookup: false,
        options: { initialBackoffMs: 100, maxBackoffMs: 500, requestTimeoutMs: 2_000 },
      },
    );
    try {
      await writer.put('ha/10.1.0.1:1').value(record('10.1.0.1:1'));
      resolver.requestResolution();
      const last = () => JSON.stringify(hosts(updates.at(-1)));
      await waitUntil(() => last() === '["10.1.0.1:1"]', 15_000, last);

      const leader = await cluster.leader();
      await leader.kill();
      // A write sent before the survivors agree on a new leader waits for etcd's server-side request
      // timeout (seconds); wait for the election instead.
      expect((await cluster.leader()).name).not.toBe(leader.name);
      const survivors = cluster.members.filter((m) => m.running).map((m) => m.endpoint);
      const survivorWriter = new Etcd3({ hosts: survivors, defaultCallOptions: () => ({ deadline: Date.now() + 2_000 }) });
      try {
        // Writes fail until the survivors elect a new leader; retry them.
        await waitUntil(
          () => survivorWriter.put('ha/10.1.0.2:2').value(record('10.1.0.2:2')).then(() => true, () => false),
          15_000,
          () => 'no write accepted after the leader died',
        );
        await waitUntil(() => last() === '["10.1.0.1:1","10.1.0.2:2"]', 15_000, () => `${last()}; errors: ${errors.map((e) => e.message).join(' | ')}`);
        await survivorWriter.delete().key('ha/10.1.0.1:1');
        await waitUntil(() => last() === '["10.1.0.2:2"]', 15_000, last);
        expect(hosts(updates.at(-1))).toEqual(['10.1.0.2:2']);
      } finally {
        survivorWriter.close();
      }
    } finally {
      resolver.close();
      writer.close();
    }
  });
});
