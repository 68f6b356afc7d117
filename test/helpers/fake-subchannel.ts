import { Metadata, connectivityState } from '@grpc/grpc-js';
import type { Clock } from '../../src/clock';
import { systemClock } from '../../src/clock';
import type {
  ChannelControlHelper,
  ConnectivityState,
  LbMetricsRecorder,
  Picker,
  PickArgs,
  Subchannel,
  SubchannelStateListener,
} from '../../src/picker/types';
import { addressKey } from '../../src/resolver/address';
import type { Address, Endpoint } from '../../src/resolver/types';

/**
 * A {@link Subchannel} whose state the test drives. `connect()` counts calls and, from IDLE, moves to
 * CONNECTING synchronously (like the channel's subchannels); every other transition is explicit.
 */
export class FakeSubchannel implements Subchannel {
  readonly key: string;
  /** How many times `connect()` was called, in any state. */
  connectCalls = 0;
  private state: ConnectivityState = connectivityState.IDLE;
  private lastError: string | undefined;
  private readonly listeners = new Set<SubchannelStateListener>();

  constructor(readonly address: Address) {
    this.key = addressKey(address);
  }

  getState(): ConnectivityState {
    return this.state;
  }

  getLastError(): string | undefined {
    return this.lastError;
  }

  connect(): void {
    this.connectCalls++;
    if (this.state === connectivityState.IDLE) this.setState(connectivityState.CONNECTING);
  }

  addStateListener(listener: SubchannelStateListener): void {
    this.listeners.add(listener);
  }

  removeStateListener(listener: SubchannelStateListener): void {
    this.listeners.delete(listener);
  }

  /** Number of listeners attached (a released subchannel should have none from the policy). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Move to `next` and notify every listener (a no-op if already there). */
  setState(next: ConnectivityState, error?: string): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    if (error !== undefined) this.lastError = error;
    for (const listener of [...this.listeners]) listener(this, previous, next, error);
  }

  ready(): void {
    this.setState(connectivityState.READY);
  }

  fail(error = `connect ECONNREFUSED ${this.key}`): void {
    this.setState(connectivityState.TRANSIENT_FAILURE, error);
  }

  idle(): void {
    this.setState(connectivityState.IDLE);
  }
}

/** One `updateState` call a policy made. */
export interface StateUpdate {
  readonly state: ConnectivityState;
  readonly picker: Picker;
  readonly error: string | undefined;
}

/** A fake channel side for policy unit tests, sharing one {@link FakeSubchannel} per address like the channel. */
export interface FakeHelper {
  readonly helper: ChannelControlHelper;
  /** Every subchannel ever created, by address key (kept after release, for inspection). */
  readonly subchannels: Map<string, FakeSubchannel>;
  /** Outstanding references per address key. */
  readonly refs: Map<string, number>;
  readonly updates: StateUpdate[];
  acquired: number;
  released: number;
  reresolutions: number;
  /** The subchannel for `host:port` (or any key); throws if it was never created. */
  sub(key: string): FakeSubchannel;
  /** The latest `updateState`; throws if none. */
  last(): StateUpdate;
}

/** Options for {@link createFakeHelper}. */
export interface FakeHelperOptions {
  clock?: Clock;
  random?: () => number;
  connectionAttemptDelayMs?: number;
  /** gRFC A78 metrics recorder handed to the policy (`helper.metrics`). */
  metrics?: LbMetricsRecorder;
}

/** Build a {@link FakeHelper}; `releaseSubchannel` throws on an unbalanced release. */
export function createFakeHelper(options: FakeHelperOptions = {}): FakeHelper {
  const fake: FakeHelper = {
    subchannels: new Map(),
    refs: new Map(),
    updates: [],
    acquired: 0,
    released: 0,
    reresolutions: 0,
    sub(key) {
      const sc = fake.subchannels.get(key);
      if (sc === undefined) throw new Error(`no subchannel for ${key}`);
      return sc;
    },
    last() {
      const update = fake.updates[fake.updates.length - 1];
      if (update === undefined) throw new Error('no updateState yet');
      return update;
    },
    helper: {
      createSubchannel(address) {
        const key = addressKey(address);
        let sc = fake.subchannels.get(key);
        if (sc === undefined) {
          sc = new FakeSubchannel(address);
          fake.subchannels.set(key, sc);
        }
        fake.acquired++;
        fake.refs.set(key, (fake.refs.get(key) ?? 0) + 1);
        return sc;
      },
      releaseSubchannel(subchannel) {
        const count = fake.refs.get(subchannel.key) ?? 0;
        if (count <= 0) throw new Error(`unbalanced release of ${subchannel.key}`);
        fake.released++;
        fake.refs.set(subchannel.key, count - 1);
      },
      updateState(state, picker, error) {
        fake.updates.push({ state, picker, error });
      },
      requestReresolution() {
        fake.reresolutions++;
      },
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      connectionAttemptDelayMs: options.connectionAttemptDelayMs ?? 250,
      metrics: options.metrics,
    },
  };
  return fake;
}

/** Endpoints with one address each, from `host:port` strings (IPv6 as `[::1]:50051`). */
export function endpoints(...targets: string[]): Endpoint[] {
  return targets.map((target) => ({ addresses: [parseAddress(target)] }));
}

/** A TCP address from `host:port` or `[v6]:port`. */
export function parseAddress(target: string): Address {
  const match = /^\[(.+)\]:(\d+)$/.exec(target) ?? /^([^:]+):(\d+)$/.exec(target);
  if (match === null) throw new Error(`bad test address ${target}`);
  return { host: match[1] as string, port: Number(match[2]) };
}

/** Pick arguments for unit tests (the same object every time: picks must not depend on identity). */
export function pickArgs(previous?: readonly Subchannel[]): PickArgs {
  return { method: '/test.Echo/Unary', metadata: new Metadata(), previous };
}
