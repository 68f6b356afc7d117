/**
 * The etcd resolver end to end: a switchyard channel on `etcd:///<service>` with round_robin, a real
 * etcd (`test/helpers/etcd-server.ts`) and real echo backends that register with `registerEtcdEndpoint()`, under
 * steady load (several loops of unary calls). Covers registration, graceful deregistration (in-flight
 * calls finish), a registrant that is SIGKILLed (its lease expires), an etcd outage (the last list
 * stays in force) and the `etcd://host:port/<service>` target form.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, registerEtcdEndpoint, type EtcdRegistration, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import { sleep, waitFor, waitForState } from '../helpers/channel-wait';
import { makeEchoClient, unary, type EchoClient } from '../helpers/echo-client';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { startTcpProxy, type TcpProxy } from '../helpers/etcd-proxy';
import { ETCD_SKIP_MESSAGE, etcdAvailable, startEtcd, type EtcdCluster } from '../helpers/etcd-server';

const available = etcdAvailable();
if (!available) console.warn(ETCD_SKIP_MESSAGE);

const insecure = grpc.credentials.createInsecure();
const ROUND_ROBIN = { loadBalancingConfig: [{ round_robin: {} }] };
/** round_robin plus a gRFC A6 retry policy on UNAVAILABLE, so calls on a dying backend fail over. */
const ROUND_ROBIN_RETRY = {
  ...ROUND_ROBIN,
  methodConfig: [{
    name: [{ service: 'switchyard.demo.Echo' }],
    retryPolicy: { maxAttempts: 5, initialBackoff: '0.02s', maxBackoff: '0.2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
  }],
};

/** A loop of unary calls on several workers, counting replies per backend and every failure. */
interface Load {
  /** Replies per backend id. */
  readonly served: Map<string, number>;
  readonly failures: Error[];
  /** Calls completed (OK or not). */
  completed(): number;
  /** Replies from `backend` so far. */
  from(backend: string): number;
  /** Stop the loops and wait for the calls in flight. */
  stop(): Promise<void>;
}

/**
 * Start `workers` loops of unary calls, each call held `delayMs` by the server so several are in
 * flight on every backend at any time.
 */
function startLoad(client: EchoClient, workers = 6, delayMs = 100): Load {
  const served = new Map<string, number>();
  const failures: Error[] = [];
  let completed = 0;
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const reply = await unary(client, { message: 'load', delay_ms: delayMs }, { timeoutMs: 10_000 });
        served.set(reply.backend, (served.get(reply.backend) ?? 0) + 1);
      } catch (err) {
        failures.push(err as Error);
      }
      completed++;
    }
  });
  return {
    served,
    failures,
    completed: () => completed,
    from: (backend) => served.get(backend) ?? 0,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Wait until `count` more calls of `load` have completed. */
function moreCalls(load: Load, count: number): Promise<void> {
  const target = load.completed() + count;
  return waitFor(() => load.completed() >= target, `${count} more calls`);
}

describe.skipIf(!available)('switchyard channel on an etcd target', () => {
  let etcd: EtcdCluster;
  let writer: Etcd3;
  const cleanups: (() => unknown)[] = [];

  /** Run `fn` after the current test, latest first. */
  const defer = (fn: () => unknown): void => void cleanups.push(fn);

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = new Etcd3({ hosts: [...etcd.endpoints] });
  });
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  afterAll(async () => {
    writer?.close();
    await etcd?.close();
  });

  async function backends(...ids: string[]): Promise<EchoServerHandle[]> {
    const servers = await Promise.all(ids.map((id) => startEchoServer({ id })));
    defer(() => Promise.all(servers.map((s) => s.stop(100))));
    return servers;
  }

  async function registerBackend(service: string, server: EchoServerHandle, endpoints = etcd.endpoints): Promise<EtcdRegistration> {
    const registration = await registerEtcdEndpoint({ endpoints, service, addr: server.address, ttlSeconds: 5 });
    defer(() => registration.close());
    return registration;
  }

  /** A channel and echo client on `target`, recording resolutions (sorted addresses), errors and attempts. */
  function open(target: string, options: SwitchyardChannelOptions) {
    const channel: SwitchyardChannel = createChannel(target, insecure, options);
    const client = makeEchoClient(target, insecure, { channelOverride: channel });
    defer(() => {
      client.close();
      channel.close();
    });
    const resolutions: string[][] = [];
    const errors: Error[] = [];
    const attempts: string[] = [];
    channel.events.on('resolution', (event) => resolutions.push([...event.addresses].sort()));
    channel.events.on('error', (error) => errors.push(error));
    channel.events.on('attempt', (event) => attempts.push(event.endpoint));
    return { channel, client, resolutions, errors, attempts };
  }

  function withLoad(client: EchoClient, workers?: number): Load {
    const load = startLoad(client, workers);
    defer(() => load.stop());
    return load;
  }

  it('sends traffic to endpoints registered with registerEtcdEndpoint() and drains one that deregisters, failing no call', async () => {
    const [a, b, c] = await backends('a', 'b', 'c');
    const regA = await registerBackend('demo.Echo', a!);
    await registerBackend('demo.Echo', b!);
    const { channel, client, resolutions } = open('etcd:///demo.Echo', {
      resolverOptions: { etcd: { endpoints: [...etcd.endpoints] } },
      serviceConfig: ROUND_ROBIN,
    });
    await waitForState(channel, grpc.connectivityState.READY);
    const load = withLoad(client);
    await waitFor(() => load.from('a') > 0 && load.from('b') > 0, 'a and b to serve');
    expect(load.from('c')).toBe(0);

    await registerBackend('demo.Echo', c!);
    await waitFor(() => load.from('c') > 0, 'the newly registered c to serve');
    expect(resolutions.at(-1)).toEqual([a!.address, b!.address, c!.address].sort());

    // Deregister a while calls are in flight on it (each call stays 100 ms on the server).
    await waitFor(() => a!.stats().methods.Unary.calls > load.from('a'), 'a call in flight on a', 15_000, 2);
    await regA.close();
    await waitFor(() => !resolutions.at(-1)!.includes(a!.address), 'a resolution without a');
    // Calls picked just before the update may still arrive; after that, a gets nothing more.
    await sleep(300);
    const aCalls = a!.stats().methods.Unary.calls;
    await moreCalls(load, 60);
    expect(a!.stats().methods.Unary.calls).toBe(aCalls);
    expect(load.from('b')).toBeGreaterThan(0);
    await load.stop();
    // Every call that reached a, including those in flight at deregistration, got its reply.
    expect(load.from('a')).toBe(a!.stats().methods.Unary.calls);
    expect(a!.stats().methods.Unary.cancelled).toBe(0);
    expect(load.failures).toEqual([]);
  });

  it('stops using a registrant killed with SIGKILL once its lease expires; with retries on UNAVAILABLE no call fails', async () => {
    const service = 'demo.Echo.crash';
    const [b] = await backends('b');
    await registerBackend(service, b!);
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, join(__dirname, '../helpers/etcd-backend-child.ts'),
        JSON.stringify({ id: 'child', endpoints: etcd.endpoints, service, ttlSeconds: 2 })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    defer(() => child.kill('SIGKILL'));
    const childAddr = await readyLine(child);

    const { channel, client, resolutions, attempts } = open(`etcd:///${service}`, {
      resolverOptions: { etcd: { endpoints: [...etcd.endpoints] } },
      serviceConfig: ROUND_ROBIN_RETRY,
    });
    await waitForState(channel, grpc.connectivityState.READY);
    const load = withLoad(client);
    await waitFor(() => load.from('child') > 0 && load.from('b') > 0, 'the child and b to serve');

    child.kill('SIGKILL');
    // The record outlives the process until etcd expires its 2 s lease.
    await waitFor(() => !resolutions.at(-1)!.includes(childAddr), 'a resolution without the dead registrant');
    await sleep(300);
    const attemptsBefore = attempts.length;
    await moreCalls(load, 60);
    expect(attempts.slice(attemptsBefore).filter((e) => e === childAddr)).toEqual([]);
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(channel.stats().failed).toBe(0);
  });

  it('keeps serving on the last endpoint list while etcd is unreachable, and follows changes once it is back', async () => {
    const service = 'demo.Echo.outage';
    const [a, b, c] = await backends('a', 'b', 'c');
    await registerBackend(service, a!);
    await registerBackend(service, b!);
    // The channel reaches etcd through a proxy the test can cut; registrations go to etcd directly.
    const proxy: TcpProxy = await startTcpProxy(Number(etcd.endpoints[0]!.split(':')[1]));
    defer(() => proxy.close());
    const { channel, client, resolutions, errors } = open(`etcd:///${service}`, {
      resolverOptions: { etcd: { endpoints: [proxy.endpoint], initialBackoffMs: 100, maxBackoffMs: 500 } },
      serviceConfig: ROUND_ROBIN,
    });
    await waitForState(channel, grpc.connectivityState.READY);
    const load = withLoad(client);
    await waitFor(() => load.from('a') > 0 && load.from('b') > 0, 'a and b to serve');

    proxy.block();
    await waitFor(() => errors.some((e) => /etcd unavailable/.test(e.message)), 'the channel to report the etcd outage');
    await registerBackend(service, c!);
    const [aBefore, bBefore, resolutionsBefore] = [load.from('a'), load.from('b'), resolutions.length];
    await moreCalls(load, 120);
    expect(load.from('a')).toBeGreaterThan(aBefore);
    expect(load.from('b')).toBeGreaterThan(bBefore);
    expect(load.from('c')).toBe(0);
    expect(resolutions).toHaveLength(resolutionsBefore);

    proxy.unblock();
    await waitFor(() => load.from('c') > 0, 'c, registered during the outage, to serve', 20_000);
    await load.stop();
    expect(load.failures).toEqual([]);
  });

  it('takes the etcd endpoints from the target authority: etcd://host:port/<service>', async () => {
    const [a] = await backends('a');
    await registerBackend('demo.Echo.authority', a!);
    const target = `etcd://${etcd.endpoints[0]}/demo.Echo.authority`;
    const { client } = open(target, { serviceConfig: ROUND_ROBIN });
    for (let i = 0; i < 5; i++) {
      const reply = await unary(client, { message: 'authority' }, { timeoutMs: 10_000 });
      expect(reply.backend).toBe('a');
      // The :authority is the service name (the last path segment), not the etcd endpoint.
      expect(reply.authority).toBe('demo.Echo.authority');
    }
    const stored = JSON.parse((await writer.get(`demo.Echo.authority/${a!.address}`).string())!);
    expect(stored).toEqual({ Addr: a!.address, Metadata: null });
  });
});

/** Resolve with the address a backend child prints as `ready <addr>`; reject if it exits first. */
function readyLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`backend child exited with ${code}`)));
  });
}
