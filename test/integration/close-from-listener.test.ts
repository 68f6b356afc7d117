/**
 * `channel.close()` is safe anywhere (issue 9, "Robustness of the channel API"): called from inside
 * every kind of event listener, during a pick, during a retry backoff or a wait-for-ready wait, it
 * neither throws (before: an uncaught `subchannel pool is closed` from the resolver callback) nor loses
 * a call: every pending call ends promptly with UNAVAILABLE "Channel closed", none waits for a
 * deadline (the calls here have none, so a lost call hangs the test until its timeout). Real grpc-js
 * echo server on loopback, real pick_first and subchannels; the resolver is scripted so each step
 * happens when the test says.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, registerLoadBalancingPolicy, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import type { SwitchyardEvents } from '../../src/call/events';
import { makeEchoClient, unaryOutcome, type EchoClient, type UnaryOutcome } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { echoConfig, retryPolicyJson } from '../helpers/resilience';
import { createScript, endpointsOf, type Script } from '../helpers/scripted-resolver';

const insecure = grpc.credentials.createInsecure();
const CLOSED = { code: grpc.status.UNAVAILABLE, details: expect.stringMatching(/^Channel closed/) };

/** A policy whose picker runs the test's hook inside `pick()`, then queues the call. */
let onPick: () => void = () => {};
registerLoadBalancingPolicy({
  name: 'close_test_hook',
  parseConfig: () => ({}),
  create: (helper) => ({
    updateEndpoints: () => helper.updateState(grpc.connectivityState.READY, {
      pick: () => {
        onPick();
        return { type: 'queue' };
      },
    }),
    resolverError: () => {},
    exitIdle: () => {},
    close: () => {},
  }),
});

let server: EchoServerHandle;
/** Errors nobody caught while a test ran (close() used to throw out of resolver callbacks). */
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);

beforeAll(async () => {
  server = await startEchoServer({ id: 'c' });
  process.on('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await server.stop(100);
});

interface Opened {
  script: Script;
  channel: SwitchyardChannel;
  client: EchoClient;
  /** Start a call without a deadline. */
  call(request?: Parameters<typeof unaryOutcome>[1], metadata?: grpc.Metadata): Promise<UnaryOutcome>;
}

function open(options: SwitchyardChannelOptions = {}): Opened {
  const script = createScript();
  const channel = createChannel(script.target, insecure, options);
  const client = makeEchoClient(script.target, insecure, { channelOverride: channel });
  return {
    script,
    channel,
    client,
    call: (request = { message: 'x' }, metadata) => unaryOutcome(client, request, metadata === undefined ? undefined : { metadata }),
  };
}

/** Close the channel from the first `event` it emits; returns whether close() threw there. */
function closeOn<K extends keyof SwitchyardEvents>(opened: Opened, event: K, when: (...args: SwitchyardEvents[K]) => boolean = () => true) {
  const result = { closed: false, threw: undefined as unknown };
  const listener = (...args: SwitchyardEvents[K]): void => {
    if (result.closed || !when(...args)) return;
    result.closed = true;
    try {
      opened.channel.close();
    } catch (error) {
      result.threw = error;
    }
  };
  (opened.channel.events.on as (e: K, l: typeof listener) => void)(event, listener);
  return result;
}

function expectClosedCleanly(outcome: UnaryOutcome, closer: { closed: boolean; threw: unknown }): void {
  expect(closer.closed).toBe(true);
  expect(closer.threw).toBeUndefined();
  expect(outcome.status).toMatchObject(CLOSED);
  expect(uncaught).toEqual([]);
}

describe('close() from inside an event listener', () => {
  it('resolution: the call waiting for it ends, the policy never gets the closed pool', async () => {
    const opened = open();
    const closer = closeOn(opened, 'resolution');
    const outcome = opened.call();
    await new Promise((resolve) => setImmediate(resolve));
    opened.script.update({ endpoints: endpointsOf(server.address) });
    expectClosedCleanly(await outcome, closer);
  });

  it('resolution, answered synchronously while the first call starts: that call is not lost', async () => {
    const opened = open();
    opened.script.answer = { endpoints: endpointsOf(server.address) };
    const closer = closeOn(opened, 'resolution');
    expectClosedCleanly(await opened.call(), closer);
  });

  it('error: a resolver failure', async () => {
    const opened = open();
    const closer = closeOn(opened, 'error');
    const outcome = opened.call();
    await new Promise((resolve) => setImmediate(resolve));
    opened.script.fail('lookup failed');
    expectClosedCleanly(await outcome, closer);
  });

  it('error: an endpoint list over maxEndpoints', async () => {
    const opened = open({ maxEndpoints: 1 });
    opened.script.answer = { endpoints: endpointsOf(server.address, '127.0.0.1:1') };
    const closer = closeOn(opened, 'error');
    expectClosedCleanly(await opened.call(), closer);
  });

  it('warning: an unknown field in the resolver’s service config', async () => {
    const opened = open();
    opened.script.answer = { endpoints: endpointsOf(server.address), serviceConfig: { methodConfg: [] } };
    const closer = closeOn(opened, 'warning');
    expectClosedCleanly(await opened.call(), closer);
  });

  it('connectivity: leaving IDLE for the first call', async () => {
    const opened = open();
    const closer = closeOn(opened, 'connectivity', (e) => e.state === grpc.connectivityState.CONNECTING);
    expectClosedCleanly(await opened.call(), closer);
  });

  it('connectivity: READY, with a call waiting for that picker', async () => {
    const opened = open();
    opened.script.answer = { endpoints: endpointsOf(server.address) };
    const closer = closeOn(opened, 'connectivity', (e) => e.state === grpc.connectivityState.READY);
    expectClosedCleanly(await opened.call(), closer);
  });

  it('attempt: a failed attempt whose retry would wait a minute', async () => {
    const serviceConfig = echoConfig({ retryPolicy: retryPolicyJson({ initialBackoff: '60s', maxBackoff: '60s' }) });
    const opened = open({ serviceConfig });
    opened.script.answer = { endpoints: endpointsOf(server.address) };
    const closer = closeOn(opened, 'attempt');
    expectClosedCleanly(await opened.call({ fail_code: grpc.status.UNAVAILABLE }), closer);
  });
});

describe('close() while calls wait', () => {
  it('during a pick', async () => {
    const opened = open({ serviceConfig: { loadBalancingConfig: [{ close_test_hook: {} }] } });
    opened.script.answer = { endpoints: endpointsOf(server.address) };
    const closer = { closed: false, threw: undefined as unknown };
    onPick = () => {
      onPick = () => {};
      closer.closed = true;
      opened.channel.close();
    };
    expectClosedCleanly(await opened.call(), closer);
  });

  it('during a retry backoff', async () => {
    const serviceConfig = echoConfig({ retryPolicy: retryPolicyJson({ initialBackoff: '60s', maxBackoff: '60s' }) });
    const opened = open({ serviceConfig });
    opened.script.answer = { endpoints: endpointsOf(server.address) };
    const closer = { closed: false, threw: undefined as unknown };
    opened.channel.events.once('backoff', () => setImmediate(() => {
      closer.closed = true;
      opened.channel.close();
    }));
    const outcome = await opened.call({ fail_code: grpc.status.UNAVAILABLE });
    expectClosedCleanly(outcome, closer);
    expect(opened.channel.stats()).toMatchObject({ attempts: 1, retries: 0 });
  });

  it('during a wait-for-ready wait (nothing listens at the address)', async () => {
    const opened = open();
    opened.script.answer = { endpoints: endpointsOf('127.0.0.1:1') };
    const closer = { closed: false, threw: undefined as unknown };
    opened.channel.events.on('connectivity', (e) => {
      if (e.state !== grpc.connectivityState.TRANSIENT_FAILURE) return;
      closer.closed = true;
      setImmediate(() => opened.channel.close());
    });
    const metadata = new grpc.Metadata();
    metadata.setOptions({ waitForReady: true });
    expectClosedCleanly(await opened.call({ message: 'x' }, metadata), closer);
  });
});

describe('a closed channel', () => {
  it('refuses new calls as grpc-js does, ends a call created before close(), and ignores a second close()', async () => {
    const opened = open();
    const states: grpc.connectivityState[] = [];
    opened.channel.events.on('connectivity', (e) => states.push(e.state));
    const created = opened.channel.createCall('/switchyard.demo.Echo/Unary', Infinity, null, null, null);
    opened.channel.close();
    expect(() => opened.channel.close()).not.toThrow();
    expect(states).toEqual([grpc.connectivityState.SHUTDOWN]);
    expect(() => opened.client.Unary({ message: 'x' }, new grpc.Metadata(), {}, () => {})).toThrow('Channel has been shut down');
    const status = await new Promise<grpc.StatusObject>((resolve) =>
      created.start(new grpc.Metadata(), { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveStatus: resolve }));
    expect(status).toMatchObject(CLOSED);
    expect(uncaught).toEqual([]);
  });
});
