/** ring_hash (gRFC A42, A61, A76): XXH64, ring construction, config, lazy connections and picks. */
import { Metadata, connectivityState } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRing } from '../../../src/picker/ring';
import { createRingHashPolicy, parseRingHashConfig } from '../../../src/picker/ring-hash';
import type { LoadBalancingPolicy, PickArgs, PickResult } from '../../../src/picker/types';
import { xxh64, xxh64Low, xxh64String } from '../../../src/picker/xxhash64';
import { createFakeHelper, endpoints, type FakeHelper } from '../../helpers/fake-subchannel';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;

describe('xxh64 (seed 0)', () => {
  const hex = (high: number): string => high.toString(16).padStart(8, '0') + xxh64Low().toString(16).padStart(8, '0');
  // Reference values from libxxhash 0.8 (XXH64, seed 0); inputs cover the < 4, < 8, < 32 and >= 32 byte paths.
  it.each([
    ['', 'ef46db3751d8e999'],
    ['a', 'd24ec4f1a98c6e5b'],
    ['abc', '44bc2cf5ad770999'],
    ['user-1234', '5ca1871f6935b8fd'],
    ['127.0.0.1:50051_0', '2aa0808c170b12a2'],
    ['x'.repeat(31), '60dd0d01083b99f0'],
    ['x'.repeat(32), 'e2df261fc2ec30eb'],
    ['y'.repeat(33), 'f27d5a84556caef4'],
    ['The quick brown fox jumps over the lazy dog', '0b242d361fda71bc'],
    ['é€😀 unicode', 'a824c5492e41a00d'],
    [Array.from({ length: 100 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''), '90ea05b4db400364'],
  ])('XXH64(%j) = %s', (input, expected) => {
    expect(hex(xxh64String(input))).toBe(expected);
    expect(hex(xxh64(Buffer.from(input, 'utf8')))).toBe(expected);
  });
});

describe('buildRing (gRFC A42 "Ring Construction")', () => {
  it('sizes the ring so the lightest endpoint gets whole entries, in proportion to weight (A42\'s A:6 B:3 C:6 D:2)', () => {
    const members = [['A', 6], ['B', 3], ['C', 6], ['D', 2]].map(([key, weight]) => ({ item: key as string, hashKey: `10.0.0.${key}:80`, weight: weight as number }));
    const ring = buildRing(members, 1024, 4096);
    // Lightest share 2/17: ceil(2/17 × 1024) = 121 entries → scale 121 × 17 / 2 = 1028.5 → 1029 entries.
    expect(ring.size).toBe(1029);
    const count = (key: string): number => ring.items.filter((i) => i === key).length;
    expect(count('D')).toBe(121);
    expect(count('B')).toBe(182);
    expect(count('A') + count('C')).toBe(726);
  });

  it('is capped at maxRingSize and independent of member order', () => {
    const members = Array.from({ length: 10 }, (_, i) => ({ item: i, hashKey: `k${i}`, weight: i + 1 }));
    const a = buildRing(members, 1024, 100);
    const b = buildRing([...members].reverse(), 1024, 100);
    expect(a.size).toBe(100);
    expect(b.items).toEqual(a.items);
  });

  it('finds the first entry at or after a hash, wrapping to the first', () => {
    const ring = buildRing([{ item: 'x', hashKey: 'x', weight: 1 }, { item: 'y', hashKey: 'y', weight: 1 }], 4, 4);
    expect(ring.find(0, 0)).toBe(0);
    expect(ring.find(0xffffffff, 0xffffffff)).toBe(0);
  });
});

describe('parseRingHashConfig (gRFC A42, A76)', () => {
  const path = 'loadBalancingConfig[0].ring_hash';
  it('reads sizes and the header (lower-cased), capping sizes at 4096', () => {
    expect(parseRingHashConfig({ requestHashHeader: 'X-User' }, path)).toEqual({ minRingSize: 1024, maxRingSize: 4096, requestHashHeader: 'x-user' });
    expect(parseRingHashConfig({ min_ring_size: '10', max_ring_size: 8_000_000, request_hash_header: 'k' }, path)).toEqual({
      minRingSize: 10, maxRingSize: 4096, requestHashHeader: 'k',
    });
  });

  it('rejects a missing or invalid header, sizes above 8M and min > max', () => {
    expect(() => parseRingHashConfig({}, path)).toThrow(`${path}.requestHashHeader: is required`);
    expect(() => parseRingHashConfig({ requestHashHeader: 'x-id-bin' }, path)).toThrow(`${path}.requestHashHeader: must not be a binary header`);
    expect(() => parseRingHashConfig({ requestHashHeader: 'bad header' }, path)).toThrow(`${path}.requestHashHeader: must be a valid header name`);
    expect(() => parseRingHashConfig({ requestHashHeader: 'k', maxRingSize: 8_388_609 }, path)).toThrow(`${path}.maxRingSize: must be an integer`);
    expect(() => parseRingHashConfig({ requestHashHeader: 'k', minRingSize: 100, maxRingSize: 10 }, path)).toThrow(`${path}.minRingSize: must not exceed maxRingSize (10)`);
  });
});

describe('ring_hash', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let policy: LoadBalancingPolicy;
  const keys = ['127.0.0.1:1001', '127.0.0.2:1002', '127.0.0.3:1003', '127.0.0.4:1004'];

  const args = (value?: string): PickArgs => {
    const metadata = new Metadata();
    if (value !== undefined) metadata.set('x-user', value);
    return { method: '/test.Echo/Unary', metadata, previous: undefined };
  };
  const pick = (value?: string): PickResult => fake.last().picker.pick(args(value));
  const keyOf = (result: PickResult): string | undefined => (result.type === 'complete' ? result.subchannel.key : undefined);

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = createFakeHelper({ random: () => 0.3 });
    policy = createRingHashPolicy(fake.helper);
    policy.updateEndpoints(endpoints(...keys), parseRingHashConfig({ requestHashHeader: 'x-user', minRingSize: 64 }, 'p'));
  });
  afterEach(() => {
    policy.close();
    expect(fake.released).toBe(fake.acquired);
    clock.restore();
  });

  /** Pick for `value` until it completes, connecting whatever the picks ask for. */
  async function settle(value: string): Promise<string> {
    for (let i = 0; i < 10; i++) {
      const result = pick(value);
      if (result.type === 'complete') return result.subchannel.key;
      clock.runMicrotasks();
      for (const sc of fake.subchannels.values()) if (sc.getState() === CONNECTING) sc.ready();
    }
    throw new Error('never completed');
  }

  // Breaking laziness (connecting everything at once) makes `acquired` 4 right after the update.
  it('starts IDLE with no connection, connects only the endpoint a pick hashes to, and keeps sending that key there', async () => {
    expect(fake.last().state).toBe(IDLE);
    expect(fake.acquired).toBe(0);
    expect(pick('alice')).toEqual({ type: 'queue' });
    clock.runMicrotasks();
    expect(fake.acquired).toBe(1);
    const owner = [...fake.subchannels.keys()][0]!;
    fake.sub(owner).ready();
    expect(fake.last().state).toBe(READY);
    for (let i = 0; i < 5; i++) expect(keyOf(pick('alice'))).toBe(owner);
  });

  it('spreads different keys over the endpoints and maps equal keys to equal endpoints', async () => {
    const owners = new Map<string, string>();
    for (let i = 0; i < 40; i++) owners.set(`user-${i}`, await settle(`user-${i}`));
    expect(new Set(owners.values()).size).toBe(4);
    for (const [user, owner] of owners) expect(keyOf(pick(user))).toBe(owner);
  });

  it('skips a failed endpoint to the next one on the ring, and goes back when it recovers', async () => {
    const owner = await settle('bob');
    fake.sub(owner).idle();
    clock.runMicrotasks();
    fake.sub(owner).connect();
    fake.sub(owner).fail();
    const next = await settle('bob');
    expect(next).not.toBe(owner);
    fake.sub(owner).idle(); // backoff over: pick_first reconnects by itself (sticky TRANSIENT_FAILURE)
    fake.sub(owner).ready();
    expect(keyOf(pick('bob'))).toBe(owner);
  });

  it('without the header, takes the first READY endpoint from a random place and connects at most one (A76)', () => {
    expect(pick()).toEqual({ type: 'queue' });
    clock.runMicrotasks();
    expect(fake.acquired).toBe(1);
    expect(pick()).toEqual({ type: 'queue' }); // one is connecting: no second connection
    clock.runMicrotasks();
    expect(fake.acquired).toBe(1);
    const only = [...fake.subchannels.keys()][0]!;
    fake.sub(only).ready();
    expect(keyOf(pick())).toBe(only);
  });

  it('aggregates as A42 says, and keeps one endpoint connecting while none is READY (A61)', () => {
    const connecting = () => [...fake.subchannels.values()].filter((sc) => sc.getState() === CONNECTING);
    expect(pick('a')).toEqual({ type: 'queue' });
    clock.runMicrotasks();
    connecting()[0]!.fail();
    expect(fake.last().state).toBe(CONNECTING); // one failed, others left: rule 4
    expect(fake.acquired).toBe(2); // and another endpoint is connecting
    connecting()[0]!.fail();
    expect(fake.last().state).toBe(TRANSIENT_FAILURE); // two failed, none READY: rule 2
    expect(pick('a')).toEqual({ type: 'queue' }); // the walk reaches the endpoint now connecting
    connecting()[0]!.fail();
    connecting()[0]!.fail();
    expect(fake.acquired).toBe(4);
    const result = pick('a');
    expect(result.type === 'fail' && result.status.details).toContain('ECONNREFUSED');
    fake.sub(keys[2]!).idle(); // backoff over: its pick_first reconnects by itself
    fake.sub(keys[2]!).ready();
    expect(fake.last().state).toBe(READY);
    expect(keyOf(pick('a'))).toBe(keys[2]);
  });
});
