import { addressKey } from '../resolver/address';
import type { Address } from '../resolver/types';

/** What the pool needs from a subchannel: its address key and a way to close it. */
export interface PooledSubchannel {
  readonly key: string;
  shutdown(): void;
}

interface PoolEntry<S> {
  readonly subchannel: S;
  refs: number;
}

/**
 * A channel's subchannels, one per address key, shared by reference count. Policies acquire a
 * subchannel for each address of each endpoint and release it when the address goes away, so an
 * address present in two consecutive resolver updates (or in two child policies) keeps its one
 * connection, as `ChannelControlHelper.createSubchannel` promises (gRFC A61's endpoint model).
 */
export class SubchannelPool<S extends PooledSubchannel> {
  private readonly entries = new Map<string, PoolEntry<S>>();
  private closed = false;

  /** @param create makes a new subchannel for an address the pool does not hold. */
  constructor(private readonly create: (address: Address) => S) {}

  /**
   * The subchannel for `address`: the existing one while anything still holds it, else a new one.
   * Every call must be paired with one {@link SubchannelPool.release}.
   * @throws Error if the pool is closed.
   */
  acquire(address: Address): S {
    if (this.closed) throw new Error('subchannel pool is closed');
    const key = addressKey(address);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.refs++;
      return entry.subchannel;
    }
    const subchannel = this.create(address);
    this.entries.set(key, { subchannel, refs: 1 });
    return subchannel;
  }

  /**
   * Give back one reference; the last one shuts the subchannel down. Releasing a subchannel the pool
   * does not hold (already fully released, or after `close()`) is a no-op.
   */
  release(subchannel: S): void {
    const entry = this.entries.get(subchannel.key);
    if (entry === undefined || entry.subchannel !== subchannel) return;
    entry.refs--;
    if (entry.refs > 0) return;
    this.entries.delete(subchannel.key);
    subchannel.shutdown();
  }

  /** Number of distinct subchannels currently held. */
  get size(): number {
    return this.entries.size;
  }

  /** Shut every subchannel down, whatever its reference count; later `acquire` calls throw. Idempotent. */
  close(): void {
    this.closed = true;
    const subchannels = [...this.entries.values()];
    this.entries.clear();
    for (const entry of subchannels) entry.subchannel.shutdown();
  }
}
