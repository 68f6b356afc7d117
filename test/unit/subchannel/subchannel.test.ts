import { Metadata, connectivityState, credentials, status, type ChannelOptions, type StatusObject } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConnectionBackoffConfig, type ConnectionBackoffConfig } from '../../../src/backoff';
import { ChannelSubchannel } from '../../../src/subchannel/subchannel';
import type { GrpcChannelLike } from '../../../src/transport/grpc-js/channel-options';
import { createGrpcJsTransport } from '../../../src/transport/grpc-js/transport';
import type { TransportStream as GrpcCall } from '../../../src/transport/types';
import { systemClock } from '../../../src/clock';
import type { ConnectivityState, Subchannel } from '../../../src/picker/types';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;
const REFUSED = 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:50051. Resolution note: ';

/** A grpc-js channel whose connectivity state the test drives. */
class FakeGrpcChannel implements GrpcChannelLike {
  state: ConnectivityState = IDLE;
  closed = false;
  exitIdleCalls = 0;
  readonly calls: Array<{ method: string; deadline: unknown; host: unknown }> = [];
  private watchers: Array<{ current: ConnectivityState; callback: () => void }> = [];
  /** Details of the status a call started in TRANSIENT_FAILURE gets (grpc-js's pick failure). */
  failureDetails = REFUSED;

  constructor(
    readonly target: string,
    readonly options: ChannelOptions,
  ) {}

  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    if (tryToConnect) this.exitIdleCalls++;
    return this.state;
  }

  watchConnectivityState(current: ConnectivityState, _deadline: Date | number, callback: () => void): void {
    if (this.state === SHUTDOWN) throw new Error('Channel has been shut down');
    this.watchers.push({ current, callback });
  }

  setState(next: ConnectivityState): void {
    this.state = next;
    const watchers = this.watchers;
    this.watchers = [];
    for (const watcher of watchers) {
      if (watcher.current !== next) watcher.callback();
      else this.watchers.push(watcher);
    }
  }

  createCall(method: string, deadline: unknown, host: unknown): GrpcCall {
    this.calls.push({ method, deadline, host });
    const stateAtStart = this.state;
    const details = this.failureDetails;
    return {
      start(_metadata: Metadata, listener: { onReceiveStatus(s: StatusObject): void }) {
        if (stateAtStart === TRANSIENT_FAILURE) {
          queueMicrotask(() => listener.onReceiveStatus({ code: status.UNAVAILABLE, details, metadata: new Metadata() }));
        }
      },
      setCredentials() {},
      halfClose() {},
    } as unknown as GrpcCall;
  }

  close(): void {
    this.closed = true;
    this.setState(SHUTDOWN);
  }
}

interface Transition {
  previous: ConnectivityState;
  next: ConnectivityState;
  error: string | undefined;
}

const ADDRESS = { host: '127.0.0.1', port: 50051 };
const flush = () => new Promise<void>((resolve) => queueMicrotask(resolve));
/** Fake timers and Date only: microtasks and nextTick stay real so promises settle. */
const fakeTimers = () =>
  sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });

describe('ChannelSubchannel (fake grpc-js channel, fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  let channels: FakeGrpcChannel[];
  let transitions: Transition[];

  beforeEach(() => {
    clock = fakeTimers();
    channels = [];
    transitions = [];
  });
  afterEach(() => clock.restore());

  function make(backoff: ConnectionBackoffConfig = resolveConnectionBackoffConfig(), channelOptions: ChannelOptions = {}) {
    const subchannel = new ChannelSubchannel({
      address: ADDRESS,
      credentials: credentials.createInsecure(),
      channelOptions,
      authority: 'orders.internal:50051',
      clock: systemClock,
      random: () => 0.5,
      backoff,
      transport: createGrpcJsTransport((target, _credentials, options) => {
        const channel = new FakeGrpcChannel(target, options);
        channels.push(channel);
        return channel;
      }),
    });
    subchannel.addStateListener((sub: Subchannel, previous, next, error) => {
      expect(sub).toBe(subchannel);
      transitions.push({ previous, next, error });
    });
    return subchannel;
  }

  const last = () => channels[channels.length - 1]!;
  const states = () => transitions.map((t) => connectivityState[t.next]);

  it('does nothing until connect(), then creates one grpc-js channel aimed at the address', () => {
    const subchannel = make(undefined, {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.service_config': '{"methodConfig":[]}',
      'grpc.enable_retries': 1,
    });
    expect(subchannel.getState()).toBe(IDLE);
    expect(subchannel.key).toBe('127.0.0.1:50051');
    expect(channels).toHaveLength(0);
    subchannel.connect();
    expect(subchannel.getState()).toBe(CONNECTING);
    expect(channels).toHaveLength(1);
    expect(last().target).toBe('ipv4:127.0.0.1:50051');
    expect(last().exitIdleCalls).toBe(1);
    expect(last().options).toMatchObject({
      'grpc.keepalive_time_ms': 10_000,
      'grpc.enable_retries': 0,
      'grpc.service_config_disable_resolution': 1,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.default_authority': 'orders.internal:50051',
      'grpc.ssl_target_name_override': 'orders.internal',
    });
    expect(last().options['grpc.service_config']).toBeUndefined();
    subchannel.connect();
    expect(channels).toHaveLength(1);
    subchannel.shutdown();
  });

  it('goes READY when the grpc-js channel does, and forwards calls to it', () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(CONNECTING);
    last().setState(READY);
    expect(subchannel.getState()).toBe(READY);
    expect(transitions).toEqual([
      { previous: IDLE, next: CONNECTING, error: undefined },
      { previous: CONNECTING, next: READY, error: undefined },
    ]);
    subchannel.createStream('/svc/Method', 12_345);
    subchannel.createStream('/svc/Other', Infinity, 'override.test:443');
    expect(last().calls).toEqual([
      { method: '/svc/Method', deadline: 12_345, host: null },
      { method: '/svc/Other', deadline: Infinity, host: 'override.test:443' },
    ]);
    // The connect timer is gone once READY.
    expect(clock.countTimers()).toBe(0);
    subchannel.shutdown();
  });

  it('times out a connect attempt after max(backoff, min connect timeout), then goes IDLE', () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(CONNECTING);
    clock.tick(19_999);
    expect(subchannel.getState()).toBe(CONNECTING);
    clock.tick(1);
    expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 timed out after 20000 ms');
    expect(transitions[1]!.error).toBe('connect to 127.0.0.1:50051 timed out after 20000 ms');
    expect(last().closed).toBe(true);
    // The backoff (1 s) has long passed: IDLE right away, asynchronously.
    clock.tick(1);
    expect(subchannel.getState()).toBe(IDLE);
    expect(clock.countTimers()).toBe(0);
    subchannel.shutdown();
  });

  it('uses the backoff as connect timeout when it exceeds the min connect timeout', () => {
    const subchannel = make({ initialBackoffMs: 1_000, maxBackoffMs: 120_000, minConnectTimeoutMs: 300 });
    subchannel.connect();
    clock.tick(999);
    expect(subchannel.getState()).toBe(CONNECTING);
    clock.tick(1);
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 timed out after 1000 ms');
    subchannel.shutdown();
  });

  it('reports a failed attempt with grpc-js\'s reason and stays TRANSIENT_FAILURE until the backoff ends', async () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(CONNECTING);
    clock.tick(100);
    last().setState(TRANSIENT_FAILURE);
    // The reason is read asynchronously (a failing probe call): still CONNECTING meanwhile.
    expect(subchannel.getState()).toBe(CONNECTING);
    expect(last().calls).toHaveLength(1);
    await flush();
    expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 failed: connect ECONNREFUSED 127.0.0.1:50051');
    expect(last().closed).toBe(true);
    subchannel.connect(); // no-op during backoff
    expect(channels).toHaveLength(1);
    clock.tick(899);
    expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    clock.tick(1);
    expect(subchannel.getState()).toBe(IDLE);
    expect(states()).toEqual(['CONNECTING', 'TRANSIENT_FAILURE', 'IDLE']);
    subchannel.shutdown();
  });

  it('grows the backoff by 1.6 per failed attempt and resets it once READY', async () => {
    const subchannel = make();
    const failOnce = async () => {
      subchannel.connect();
      last().setState(CONNECTING);
      last().setState(TRANSIENT_FAILURE);
      await flush();
      expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    };
    const timeInFailure = () => {
      let elapsed = 0;
      while (subchannel.getState() === TRANSIENT_FAILURE) {
        clock.tick(10);
        elapsed += 10;
      }
      return elapsed;
    };
    await failOnce();
    expect(timeInFailure()).toBe(1_000);
    await failOnce();
    expect(timeInFailure()).toBe(1_600);
    await failOnce();
    expect(timeInFailure()).toBe(2_560);
    subchannel.connect();
    last().setState(READY);
    expect(subchannel.getState()).toBe(READY);
    expect(subchannel.getLastError()).toBeUndefined();
    last().setState(IDLE); // connection lost
    expect(subchannel.getState()).toBe(IDLE);
    await failOnce();
    expect(timeInFailure()).toBe(1_000);
    subchannel.shutdown();
  });

  it('goes IDLE without error when a READY connection is lost, and reconnects with a fresh grpc-js channel', () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(READY);
    const first = last();
    first.setState(IDLE);
    expect(subchannel.getState()).toBe(IDLE);
    expect(transitions[2]).toEqual({ previous: READY, next: IDLE, error: undefined });
    expect(first.closed).toBe(true);
    subchannel.connect();
    expect(channels).toHaveLength(2);
    expect(last()).not.toBe(first);
    expect(subchannel.getState()).toBe(CONNECTING);
    subchannel.shutdown();
  });

  it('treats a grpc-js idle timeout (READY → IDLE) like a lost connection', () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(READY);
    last().setState(IDLE);
    expect(subchannel.getState()).toBe(IDLE);
    expect(clock.countTimers()).toBe(0);
    subchannel.shutdown();
  });

  it('fails the attempt when grpc-js drops it back to IDLE before READY', () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(CONNECTING);
    last().setState(IDLE);
    expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 failed: connection closed before it became ready');
    subchannel.shutdown();
  });

  it('prefers READY when grpc-js reconnects before the failure reason arrives', async () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(TRANSIENT_FAILURE);
    last().setState(READY);
    await flush();
    expect(subchannel.getState()).toBe(READY);
    expect(states()).toEqual(['CONNECTING', 'READY']);
    subchannel.shutdown();
  });

  it('says so when grpc-js gives no reason', async () => {
    const subchannel = make();
    subchannel.connect();
    last().failureDetails = 'something else';
    last().setState(TRANSIENT_FAILURE);
    await flush();
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 failed: grpc-js gave no reason');
    subchannel.shutdown();
  });

  it('reports a grpc-js channel that cannot be created as a failed attempt', async () => {
    const subchannel = new ChannelSubchannel({
      address: ADDRESS,
      credentials: credentials.createInsecure(),
      channelOptions: {},
      authority: 'x:1',
      clock: systemClock,
      random: () => 0.5,
      transport: createGrpcJsTransport(() => {
        throw new Error('boom');
      }),
    });
    subchannel.connect();
    // The seam reports connection events asynchronously, never from inside connect().
    expect(subchannel.getState()).toBe(CONNECTING);
    await flush();
    expect(subchannel.getState()).toBe(TRANSIENT_FAILURE);
    expect(subchannel.getLastError()).toBe('connect to 127.0.0.1:50051 failed: boom');
    subchannel.shutdown();
    expect(clock.countTimers()).toBe(0);
  });

  it('returns a local UNAVAILABLE call when not READY', async () => {
    const subchannel = make();
    const call = subchannel.createStream('/svc/Method', Infinity);
    const status = await new Promise<StatusObject>((resolve) => {
      call.start(new Metadata(), { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveStatus: resolve });
    });
    expect(status.code).toBe(14);
    expect(status.details).toBe('subchannel 127.0.0.1:50051 is not READY (IDLE)');
    expect(call.getPeer()).toBe('127.0.0.1:50051');
    subchannel.shutdown();
  });

  it('shutdown() closes the connection, clears every timer and notifies SHUTDOWN once', async () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(TRANSIENT_FAILURE);
    await flush();
    expect(clock.countTimers()).toBe(1); // the backoff timer
    subchannel.shutdown();
    subchannel.shutdown();
    expect(clock.countTimers()).toBe(0);
    expect(subchannel.getState()).toBe(SHUTDOWN);
    expect(states()).toEqual(['CONNECTING', 'TRANSIENT_FAILURE', 'SHUTDOWN']);
    subchannel.connect();
    clock.tick(200_000);
    expect(channels).toHaveLength(1);
    expect(states()).toEqual(['CONNECTING', 'TRANSIENT_FAILURE', 'SHUTDOWN']);
  });

  it('shutdown() during CONNECTING closes the attempt and its connect timer', () => {
    const subchannel = make();
    subchannel.connect();
    expect(clock.countTimers()).toBe(1);
    subchannel.shutdown();
    expect(last().closed).toBe(true);
    expect(clock.countTimers()).toBe(0);
  });

  it('ignores a late failure reason after shutdown', async () => {
    const subchannel = make();
    subchannel.connect();
    last().setState(TRANSIENT_FAILURE);
    subchannel.shutdown();
    await flush();
    expect(states()).toEqual(['CONNECTING', 'SHUTDOWN']);
    expect(clock.countTimers()).toBe(0);
  });

  it('copes with a listener that shuts the subchannel down while it starts connecting', () => {
    const subchannel = make();
    subchannel.addStateListener((sub, _previous, next) => {
      if (next === CONNECTING) (sub as ChannelSubchannel).shutdown();
    });
    subchannel.connect();
    expect(subchannel.getState()).toBe(SHUTDOWN);
    expect(channels).toHaveLength(0);
    expect(clock.countTimers()).toBe(0);
  });

  it('removed listeners are not called', () => {
    const subchannel = make();
    const calls: ConnectivityState[] = [];
    const listener = (_s: Subchannel, _p: ConnectivityState, next: ConnectivityState) => void calls.push(next);
    subchannel.addStateListener(listener);
    subchannel.connect();
    subchannel.removeStateListener(listener);
    last().setState(READY);
    expect(calls).toEqual([CONNECTING]);
    subchannel.shutdown();
  });
});
