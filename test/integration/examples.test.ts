/**
 * The examples against real echo backends on loopback: the `file` resolver (examples/custom-resolver.ts)
 * and the `weighted_random` policy (examples/custom-policy.ts) driven through real switchyard channels,
 * deadline propagation (examples/propagate-deadlines.ts, the README's snippet), a nice-grpc client
 * (examples/nice-grpc-client.ts), and examples/log-retries.ts run as a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createChannel, type SwitchyardChannel } from '../../src/index';
import { fileResolverFactory, parseEndpointsFile, registerFileResolver } from '../../examples/custom-resolver';
import { registerWeightedRandom, weightedRandomFactory } from '../../examples/custom-policy';
import { weightedPicker } from '../../examples/weighted-picker';
import { frontService, unaryWithin500Ms } from '../../examples/propagate-deadlines';
import { createNiceEchoClient } from '../../examples/nice-grpc-client';
import { echoServiceDefinition } from '../../examples/backend/echo-proto';
import { startEchoServer, type EchoServerHandle } from '../helpers/echo-server';
import { makeEchoClient, unary, type EchoClient } from '../helpers/echo-client';
import { waitFor } from '../helpers/channel-wait';
import { createFakeHelper, endpoints, pickArgs } from '../helpers/fake-subchannel';

const credentials = grpc.credentials.createInsecure();
let servers: EchoServerHandle[] = [];
let dir: string;
const open: { client: EchoClient; channel: SwitchyardChannel }[] = [];

beforeAll(async () => {
  registerFileResolver();
  registerWeightedRandom();
  servers = await Promise.all(['a', 'b', 'c'].map((id) => startEchoServer({ id })));
  dir = mkdtempSync(join(tmpdir(), 'switchyard-examples-'));
});

afterEach(() => {
  for (const { client, channel } of open.splice(0)) {
    client.close();
    channel.close();
  }
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(1_000)));
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` as JSON to `name` in the temp dir with write-and-rename; returns the path. */
function writeJson(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(`${path}.tmp`, JSON.stringify(content));
  renameSync(`${path}.tmp`, path);
  return path;
}

function connect(target: string, serviceConfig: object, random?: () => number): { client: EchoClient; channel: SwitchyardChannel } {
  const channel = createChannel(target, credentials, { serviceConfig, ...(random ? { random } : {}) });
  const client = makeEchoClient('echo', credentials, { channelOverride: channel });
  open.push({ client, channel });
  return { client, channel };
}

/** Backend ids of `count` sequential calls. */
async function backendsOf(client: EchoClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await unary(client, { message: 'x' }, { timeoutMs: 10_000 })).backend);
  return ids;
}

/** mulberry32, so weighted picks are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('examples/custom-resolver.ts (file resolver)', () => {
  it('serves the endpoints in the file and follows changes to it', async () => {
    const path = writeJson('follow.json', { endpoints: [servers[0]!.address, servers[1]!.address] });
    const { client } = connect(`file://${path}`, { loadBalancingConfig: [{ round_robin: {} }] });
    const seen = new Set<string>();
    await waitFor(async () => {
      seen.add((await unary(client, {}, { timeoutMs: 10_000 })).backend);
      return seen.has('a') && seen.has('b');
    }, 'calls to reach a and b');
    expect(seen.has('c')).toBe(false);

    writeJson('follow.json', { endpoints: [servers[2]!.address] });
    await waitFor(async () => (await unary(client, {}, { timeoutMs: 10_000 })).backend === 'c', 'calls to move to c');
    expect(new Set(await backendsOf(client, 6))).toEqual(new Set(['c']));
  });

  it('keeps the last good list when the file turns bad, and reports the error', async () => {
    const path = writeJson('bad.json', { endpoints: [servers[1]!.address] });
    const { client, channel } = connect(`file://${path}`, {});
    const errors: Error[] = [];
    channel.events.on('error', (e) => errors.push(e));
    expect((await unary(client, {}, { timeoutMs: 10_000 })).backend).toBe('b');
    writeJson('bad.json', { endpoints: ['orders.internal:50051'] });
    await waitFor(() => errors.length > 0, 'an error event');
    expect(errors[0]!.message).toContain('endpoints[0]');
    expect(await backendsOf(client, 3)).toEqual(['b', 'b', 'b']);
  });

  it('applies a service config found in the file', async () => {
    const path = writeJson('config.json', {
      endpoints: servers.map((s) => s.address),
      serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] },
    });
    // The channel's own option says pick_first (one backend); the file's round_robin wins.
    const { client } = connect(`file://${path}`, { loadBalancingConfig: [{ pick_first: {} }] });
    const seen = new Set<string>();
    await waitFor(async () => {
      seen.add((await unary(client, {}, { timeoutMs: 10_000 })).backend);
      return seen.size === 3;
    }, 'calls to reach all three backends');
  });

  it('parses entries with attributes and rejects malformed ones and targets', () => {
    const update = parseEndpointsFile('{"endpoints":["127.0.0.1:1",{"addr":"[::1]:2","weight":3}]}');
    expect(update.endpoints).toEqual([
      { addresses: [{ host: '127.0.0.1', port: 1 }] },
      { addresses: [{ host: '::1', port: 2 }], attributes: { weight: 3 } },
    ]);
    expect(update.serviceConfig).toBeUndefined();
    expect(() => parseEndpointsFile('{"endpoints":["127.0.0.1:0"]}')).toThrow(/endpoints\[0\]/);
    expect(() => parseEndpointsFile('{}')).toThrow(/"endpoints" must be an array/);
    expect(() => createChannel('file://host/etc/x.json', credentials)).toThrow(ConfigError);
    expect(fileResolverFactory.defaultAuthority({ scheme: 'file', authority: '', path: 'etc/orders.json', raw: '' })).toBe('orders');
  });
});

describe('examples/custom-policy.ts (weighted_random)', () => {
  it('spreads calls in proportion to the endpoint weights', async () => {
    const path = writeJson('weights.json', {
      endpoints: [
        { addr: servers[0]!.address, weight: 1 },
        { addr: servers[1]!.address, weight: 9 },
      ],
    });
    const { client } = connect(`file://${path}`, { loadBalancingConfig: [{ weighted_random: {} }] }, seeded(42));
    // Wait until both are READY, so the counted calls see the full weighted picker.
    const seen = new Set<string>();
    await waitFor(async () => {
      seen.add((await unary(client, {}, { timeoutMs: 10_000 })).backend);
      return seen.size === 2;
    }, 'calls to reach both backends');
    const ids = await backendsOf(client, 200);
    const a = ids.filter((id) => id === 'a').length;
    const b = ids.filter((id) => id === 'b').length;
    expect(a + b).toBe(200);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(4 * a); // expected 9 : 1
  });

  it('uses defaultWeight without attributes (ipv4 target) and keeps serving when a backend stops', async () => {
    const extra = await startEchoServer({ id: 'd' });
    const target = `ipv4:${servers[2]!.address},${extra.address}`;
    const { client } = connect(target, { loadBalancingConfig: [{ weighted_random: { defaultWeight: 2 } }] });
    const seen = new Set<string>();
    await waitFor(async () => {
      seen.add((await unary(client, {}, { timeoutMs: 10_000 })).backend);
      return seen.size === 2;
    }, 'calls to reach c and d');
    await extra.stop(100);
    await waitFor(async () => {
      const ids = await backendsOf(client, 5).catch(() => ['failed']);
      return ids.every((id) => id === 'c');
    }, 'calls to settle on c only');
  });

  it('validates its config with ConfigError paths', () => {
    expect(weightedRandomFactory.parseConfig({}, 'p')).toEqual({ defaultWeight: 1 });
    expect(() => weightedRandomFactory.parseConfig({ defaultWeight: 0 }, 'loadBalancingConfig[0].weighted_random')).toThrow(
      'loadBalancingConfig[0].weighted_random.defaultWeight: must be a positive number, got 0',
    );
    expect(() => weightedRandomFactory.parseConfig([], 'p')).toThrow(ConfigError);
  });

  it('releases every subchannel it created, on updates and on close', () => {
    const fake = createFakeHelper({ random: seeded(1) });
    const policy = weightedRandomFactory.create(fake.helper);
    const config = weightedRandomFactory.parseConfig({}, 'p');
    policy.updateEndpoints(endpoints('127.0.0.1:1', '127.0.0.1:2'), config);
    fake.sub('127.0.0.1:1').ready();
    expect(fake.last().state).toBe(grpc.connectivityState.READY);
    policy.updateEndpoints(endpoints('127.0.0.1:2', '127.0.0.1:3'), config);
    expect(fake.refs.get('127.0.0.1:1')).toBe(0);
    expect(fake.sub('127.0.0.1:1').listenerCount).toBe(0);
    expect(fake.refs.get('127.0.0.1:2')).toBe(1);
    policy.close();
    expect(fake.acquired).toBe(fake.released);
    for (const sc of fake.subchannels.values()) expect(sc.listenerCount).toBe(0);
  });

  it('picks in O(1) from an alias table that matches the weights', () => {
    const results = [1, 2, 7].map((weight, i) => ({ weight, result: { type: 'complete' as const, subchannel: { key: `s${i}` } as never } }));
    const picker = weightedPicker(results, seeded(3));
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      const picked = picker.pick(pickArgs());
      counts[results.findIndex((r) => r.result === picked)]!++;
    }
    expect(counts[0]! / 10_000).toBeCloseTo(0.1, 1);
    expect(counts[1]! / 10_000).toBeCloseTo(0.2, 1);
    expect(counts[2]! / 10_000).toBeCloseTo(0.7, 1);
  });
});

describe('examples/propagate-deadlines.ts (the README snippet)', () => {
  // Breaking propagation (the handler's outbound call not inheriting the incoming deadline) makes the
  // backend see no deadline: deadline_remaining_ms -1.
  it('an outbound call from a handler inherits the incoming deadline', async () => {
    const { client: backend } = connect(`ipv4:${servers[0]!.address}`, {});
    const front = new grpc.Server();
    front.addService(echoServiceDefinition, frontService(backend));
    const port = await new Promise<number>((done, fail) =>
      front.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? fail(error) : done(p))));
    const frontClient = makeEchoClient(`127.0.0.1:${port}`);
    try {
      const reply = await unary(frontClient, { message: 'via front' }, { timeoutMs: 5_000 });
      expect(reply.backend).toBe('a');
      expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
      expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(5_000);
    } finally {
      frontClient.close();
      front.forceShutdown();
    }
  });

  it('runWithDeadline gives calls inside it that deadline', async () => {
    const { client } = connect(`ipv4:${servers[1]!.address}`, {});
    const reply = await unaryWithin500Ms(client, { message: 'direct' });
    expect(reply.deadline_remaining_ms).toBeGreaterThan(0);
    expect(reply.deadline_remaining_ms).toBeLessThanOrEqual(500);
  });
});

describe('examples/nice-grpc-client.ts', () => {
  // Breaking it (a channel nice-grpc cannot drive) fails every call of this test.
  it('a nice-grpc client works on a switchyard channel: balancing, retries, streams', async () => {
    const { client, channel } = createNiceEchoClient(`ipv4:${servers[0]!.address},${servers[1]!.address}`);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await client.Unary({ message: `call ${i}` })).backend);
      expect(seen).toEqual(new Set(['a', 'b']));
      const retried = await client.Unary({ message: 'retried', fail_code: grpc.status.UNAVAILABLE, fail_attempts: 1 });
      expect(retried.attempt).toBe(1);
      const replies = [];
      for await (const reply of client.ServerStream({ message: 'stream', response_count: 3 })) replies.push(reply);
      expect(replies).toHaveLength(3);
      const aborted = new AbortController();
      const pending = client.Unary({ message: 'hang', hang: true }, { signal: aborted.signal });
      aborted.abort();
      await expect(pending).rejects.toThrow(/abort/i);
      expect(channel.stats().failed).toBeGreaterThanOrEqual(1);
    } finally {
      channel.close();
    }
  });
});

describe('examples/log-retries.ts', () => {
  it('runs to completion and logs a backoff line', async () => {
    const script = resolve(__dirname, '../../examples/log-retries.ts');
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code, `exit code; stderr: ${stderr}`).toBe(0);
    expect(stdout).toMatch(/^ *\d+ ms {2}backoff {3}Unary attempt #2 in \d+ ms$/m);
    expect(stdout).toMatch(/attempt {3}Unary #1 \(initial\)/);
    expect(stdout).toContain('stats');
  });
});
