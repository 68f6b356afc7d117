import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConnectionBackoffConfig } from '../../src/backoff';
import { HealthCheckedSubchannel } from '../../src/subchannel/health-check';
import { ServingStatus } from '../../src/subchannel/health-proto';
import { grpcJsTransport } from '../../src/transport/grpc-js/transport';
import { ChannelSubchannel } from '../../src/subchannel/subchannel';
import { systemClock } from '../../src/clock';
import { createChannel } from '../../src/index';
import type { ConnectivityState, Subchannel } from '../../src/picker/types';
import { waitForSubchannelState } from '../helpers/subchannel-helpers';

const { READY, TRANSIENT_FAILURE, IDLE } = grpc.connectivityState;
const identity = (value: Buffer) => value;

/** `grpc.health.v1.Health/Watch` with Buffers on the wire; the test decodes/encodes by hand. */
const healthService: grpc.ServiceDefinition = {
  Watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A minimal health server: one status for every service, pushed to every open Watch stream. */
interface HealthServer {
  readonly port: number;
  /** Service names of the Watch requests received, in order. */
  readonly requests: string[];
  setStatus(servingStatus: number): void;
  close(): void;
}

async function bind(server: grpc.Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}

async function startHealthServer(initial: number | undefined): Promise<HealthServer> {
  const server = new grpc.Server();
  const watchers = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  const requests: string[] = [];
  let current = initial;
  const encode = (servingStatus: number) => Buffer.from([0x08, servingStatus]);
  server.addService(healthService, {
    Watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      // HealthCheckRequest: field 1 (tag 0x0a), short names only (one-byte length).
      const request = call.request;
      requests.push(request.length === 0 ? '' : request.subarray(2).toString('utf8'));
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
      if (current !== undefined) call.write(encode(current));
    },
  });
  const port = await bind(server);
  return {
    port,
    requests,
    setStatus(servingStatus) {
      current = servingStatus;
      for (const call of watchers) call.write(encode(servingStatus));
    },
    close: () => server.forceShutdown(),
  };
}

function makeInner(port: number): ChannelSubchannel {
  return new ChannelSubchannel({
    transport: grpcJsTransport,
    address: { host: '127.0.0.1', port },
    credentials: grpc.credentials.createInsecure(),
    channelOptions: {},
    authority: `127.0.0.1:${port}`,
    clock: systemClock,
    random: Math.random,
    backoff: resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 100, maxReconnectBackoffMs: 200 }),
  });
}

/** Records the states a subchannel reports; `next(state)` resolves when it reaches `state` (generous timeout). */
function recorder(subchannel: Subchannel) {
  const states: ConnectivityState[] = [];
  subchannel.addStateListener((_s, _p, next) => states.push(next));
  return {
    states,
    reach: (state: ConnectivityState, withinMs?: number): Promise<void> => waitForSubchannelState(subchannel, state, withinMs),
  };
}

describe('HealthCheckedSubchannel against a real grpc-js server on loopback', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is READY only after SERVING, TRANSIENT_FAILURE on NOT_SERVING, READY again on SERVING', async () => {
    const server = await startHealthServer(undefined);
    cleanups.push(() => server.close());
    const inner = makeInner(server.port);
    cleanups.push(() => inner.shutdown());
    const wrapper = new HealthCheckedSubchannel({ inner, serviceName: 'orders.Orders', clock: systemClock, random: Math.random });
    cleanups.push(() => wrapper.dispose());
    const wrapped = recorder(wrapper);

    wrapper.connect();
    await recorder(inner).reach(READY);
    // Connected, but no health answer yet.
    for (let i = 0; i < 200 && server.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(server.requests).toEqual(['orders.Orders']);
    expect(wrapper.getState()).toBe(grpc.connectivityState.CONNECTING);

    server.setStatus(ServingStatus.SERVING);
    await wrapped.reach(READY);

    const call = await unaryThrough(wrapper);
    expect(call.code).toBe(grpc.status.UNIMPLEMENTED); // the call layer path works through the wrapper

    server.setStatus(ServingStatus.NOT_SERVING);
    await wrapped.reach(TRANSIENT_FAILURE);
    expect(wrapper.getLastError()).toMatch(/NOT_SERVING/);
    expect(inner.getState()).toBe(READY);

    server.setStatus(ServingStatus.SERVING);
    await wrapped.reach(READY);
    expect(wrapped.states).toEqual([
      grpc.connectivityState.CONNECTING,
      READY,
      TRANSIENT_FAILURE,
      READY,
    ]);
    expect(server.requests).toHaveLength(1);
  });

  it('treats a server without the health service (UNIMPLEMENTED) as healthy', async () => {
    const server = new grpc.Server();
    const port = await bind(server);
    cleanups.push(() => server.forceShutdown());
    const inner = makeInner(port);
    cleanups.push(() => inner.shutdown());
    const wrapper = new HealthCheckedSubchannel({ inner, serviceName: '', clock: systemClock, random: Math.random });
    cleanups.push(() => wrapper.dispose());
    const wrapped = recorder(wrapper);
    wrapper.connect();
    await wrapped.reach(READY);
    expect(wrapped.states).toEqual([grpc.connectivityState.CONNECTING, READY]);
    expect(wrapper.getLastError()).toBeUndefined();
  });

  it('retries a failed Watch stream after a backoff on the same connection', async () => {
    const server = new grpc.Server();
    let calls = 0;
    server.addService(healthService, {
      Watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        calls++;
        if (calls === 1) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'warming up' });
        else call.write(Buffer.from([0x08, ServingStatus.SERVING]));
      },
    });
    const port = await bind(server);
    cleanups.push(() => server.forceShutdown());
    const inner = makeInner(port);
    cleanups.push(() => inner.shutdown());
    const wrapper = new HealthCheckedSubchannel({
      inner,
      serviceName: '',
      clock: systemClock,
      random: Math.random,
      backoff: resolveConnectionBackoffConfig({ initialReconnectBackoffMs: 50, maxReconnectBackoffMs: 100 }),
    });
    cleanups.push(() => wrapper.dispose());
    const wrapped = recorder(wrapper);
    wrapper.connect();
    await wrapped.reach(READY);
    expect(wrapped.states).toEqual([grpc.connectivityState.CONNECTING, TRANSIENT_FAILURE, grpc.connectivityState.CONNECTING, READY]);
    expect(calls).toBe(2);
  });

  it('follows the connection when the server goes away', async () => {
    const server = await startHealthServer(ServingStatus.SERVING);
    const inner = makeInner(server.port);
    cleanups.push(() => inner.shutdown());
    const wrapper = new HealthCheckedSubchannel({ inner, serviceName: '', clock: systemClock, random: Math.random });
    cleanups.push(() => wrapper.dispose());
    const wrapped = recorder(wrapper);
    wrapper.connect();
    await wrapped.reach(READY);
    expect(server.requests).toEqual(['']);
    server.close();
    await recorder(inner).reach(IDLE);
    expect(wrapper.getState()).toBe(IDLE);
  });
});

/** An unknown method through the wrapper's `createCall`: proves calls reach the server on its connection. */
function unaryThrough(subchannel: HealthCheckedSubchannel): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const call = subchannel.createStream('/test.Nothing/Here', Date.now() + 5_000);
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage() {},
      onReceiveStatus: resolve,
    });
    call.sendMessageWithContext({}, Buffer.alloc(0));
    call.halfClose();
    call.startRead();
  });
}

describe('health checking through the channel (gRFC A17)', () => {
  it('round_robin sends calls only to SERVING backends; pick_first ignores health', async () => {
    const serving = await startHealthServer(1);
    const notServing = await startHealthServer(2);
    const target = `ipv4:127.0.0.1:${serving.port},127.0.0.1:${notServing.port}`;
    const peersOf = async (channel: ReturnType<typeof createChannel>): Promise<Set<string>> => {
      const client = new grpc.Client(target, grpc.credentials.createInsecure(), { channelOverride: channel });
      const peers = new Set<string>();
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          const call = client.makeUnaryRequest('/test.Nothing/Here', identity, identity, Buffer.alloc(0),
            { deadline: Date.now() + 5_000 }, () => {
              peers.add(call.getPeer());
              resolve();
            });
        });
      }
      return peers;
    };
    const healthChecked = createChannel(target, grpc.credentials.createInsecure(), {
      serviceConfig: { loadBalancingConfig: [{ round_robin: {} }], healthCheckConfig: { serviceName: 'svc' } },
    });
    expect([...(await peersOf(healthChecked))]).toEqual([`127.0.0.1:${serving.port}`]);
    expect(notServing.requests).toEqual(['svc']);
    healthChecked.close();
    const pickFirst = createChannel(target, grpc.credentials.createInsecure(), {
      serviceConfig: { healthCheckConfig: { serviceName: 'svc' } },
    });
    expect((await peersOf(pickFirst)).size).toBe(1);
    expect(notServing.requests).toEqual(['svc']);
    pickFirst.close();
    serving.close();
    notServing.close();
  });
});
