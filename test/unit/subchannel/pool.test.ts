import { describe, expect, it } from 'vitest';
import { SubchannelPool, type PooledSubchannel } from '../../../src/subchannel/pool';
import { addressKey } from '../../../src/resolver/address';
import type { Address } from '../../../src/resolver/types';

interface Fake extends PooledSubchannel {
  readonly address: Address;
  shutdowns: number;
}

function makePool() {
  const created: Fake[] = [];
  const pool = new SubchannelPool<Fake>((address) => {
    const fake: Fake = {
      address,
      key: addressKey(address),
      shutdowns: 0,
      shutdown() {
        this.shutdowns++;
      },
    };
    created.push(fake);
    return fake;
  });
  return { pool, created };
}

const a = { host: '127.0.0.1', port: 1 };
const b = { host: '::1', port: 1 };

describe('SubchannelPool', () => {
  it('returns the same subchannel for the same address key while it is held', () => {
    const { pool, created } = makePool();
    const first = pool.acquire(a);
    const second = pool.acquire({ host: '127.0.0.1', port: 1 });
    expect(second).toBe(first);
    expect(pool.acquire(b)).not.toBe(first);
    expect(created.map((s) => s.key)).toEqual(['127.0.0.1:1', '[::1]:1']);
    expect(pool.size).toBe(2);
  });

  it('shuts a subchannel down when its last reference is released, and makes a new one afterwards', () => {
    const { pool, created } = makePool();
    const first = pool.acquire(a);
    pool.acquire(a);
    pool.release(first);
    expect(first.shutdowns).toBe(0);
    pool.release(first);
    expect(first.shutdowns).toBe(1);
    expect(pool.size).toBe(0);
    pool.release(first); // extra release: no-op
    expect(first.shutdowns).toBe(1);
    const again = pool.acquire(a);
    expect(again).not.toBe(first);
    expect(created).toHaveLength(2);
  });

  it('keeps the connection of an address that stays across an update (acquire new before releasing old)', () => {
    const { pool, created } = makePool();
    const old = [pool.acquire(a), pool.acquire(b)];
    const next = [pool.acquire(b)];
    for (const s of old) pool.release(s);
    expect(next[0]).toBe(old[1]);
    expect(old[0]!.shutdowns).toBe(1);
    expect(old[1]!.shutdowns).toBe(0);
    expect(created).toHaveLength(2);
  });

  it('ignores a foreign subchannel with a known key', () => {
    const { pool } = makePool();
    const held = pool.acquire(a);
    const foreign: Fake = { address: a, key: held.key, shutdowns: 0, shutdown() {} };
    pool.release(foreign);
    expect(pool.size).toBe(1);
  });

  it('close() shuts every subchannel down once and refuses new acquisitions', () => {
    const { pool, created } = makePool();
    pool.acquire(a);
    pool.acquire(a);
    pool.acquire(b);
    pool.close();
    pool.close();
    expect(created.map((s) => s.shutdowns)).toEqual([1, 1]);
    pool.release(created[0]!);
    expect(created[0]!.shutdowns).toBe(1);
    expect(() => pool.acquire(a)).toThrow('subchannel pool is closed');
  });
});
