/**
 * ring_hash (gRFC A42) with `requestHashHeader` (gRFC A76) over real grpc-js backends, configured from
 * a plain service config: a key always reaches the same backend, keys spread over all backends, and a
 * call without the header goes to some READY backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad, shares, startRig, type PolicyRig } from './policy-harness';

describe('ring_hash with requestHashHeader', () => {
  let rig: PolicyRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  // Breaking the hashing (a random or round-robin pick) sends a key to several backends.
  it('keeps each key on one backend and spreads keys over all of them', { timeout: 120_000 }, async () => {
    rig = await startRig([{}, {}, {}], {
      loadBalancingConfig: [{ ring_hash: { requestHashHeader: 'x-user', minRingSize: 256 } }],
    });
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const metadata = (i: number): Record<string, string> => ({ 'x-user': keys[i % keys.length]! });
    // The first pass connects lazily, endpoint by endpoint, as calls hash to them.
    await runLoad(rig.client, 120, 4, metadata);
    const first = await runLoad(rig.client, 600, 1, metadata);
    const owner = new Map<string, Set<string>>();
    first.forEach((backend, i) => owner.set(keys[i % keys.length]!, (owner.get(keys[i % keys.length]!) ?? new Set()).add(backend)));
    for (const [key, backends] of owner) expect([...backends], key).toHaveLength(1);
    expect(new Set(first)).toEqual(new Set(['b0', 'b1', 'b2']));
    const noHeader = shares(await runLoad(rig.client, 30, 3));
    expect(Object.keys(noHeader).every((b) => b.startsWith('b')), JSON.stringify(noHeader)).toBe(true);
  });
});
