/**
 * gRFC A2 end to end: a switchyard channel whose service config comes from a DNS TXT record at
 * `_grpc_config.<host>` served by a real DNS server (dnsmasq), re-read at every re-resolution.
 * The config picks the load-balancing policy and a gRFC A6 retry policy — from the channel's first call
 * on, which waits for the first resolution; an invalid record leaves the
 * last good config in force (gRFC A21) and is reported as an `error` event — and, on a channel with no
 * good config at all (no `serviceConfig` option), fails its calls as A21 requires; with
 * `serviceConfigLookup: false` the TXT record is ignored.
 *
 * Two echo backends listen on 127.0.0.1 and 127.0.0.2 with the same port, so one name with two A
 * records reaches both.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors';
import { createChannel, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import { sleep, waitFor, waitForState } from '../helpers/channel-wait';
import { checkDnsServerAvailable, startDnsServer, type TestDnsServer } from '../helpers/dns-server';
import { makeEchoClient, unary, unaryOutcome, type EchoClient } from '../helpers/echo-client';
import { ECHO_SERVICE_NAME, startEchoServer, type EchoServerHandle } from '../helpers/echo-server';

const insecure = grpc.credentials.createInsecure();
const NAME = 'svc.test';
const TXT_NAME = `_grpc_config.${NAME}`;

const roundRobin = { loadBalancingConfig: [{ round_robin: {} }] };
const retryPolicy = {
  maxAttempts: 3,
  initialBackoff: '0.01s',
  maxBackoff: '0.05s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};
const withRetries = { ...roundRobin, methodConfig: [{ name: [{ service: ECHO_SERVICE_NAME }], retryPolicy }] };
/** Fails once with UNAVAILABLE, then succeeds: a retry policy turns it into a success on attempt 2. */
const FAIL_ONCE = { message: 'retry me', fail_code: grpc.status.UNAVAILABLE, fail_attempts: 1 };

/** A `grpc_config` TXT record (gRFC A2) in 255-byte strings. */
function grpcConfig(choices: unknown): string[] {
  const text = `grpc_config=${JSON.stringify(choices)}`;
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += 255) strings.push(text.slice(i, i + 255));
  return strings;
}

/** Start two echo servers on 127.0.0.1 and 127.0.0.2 sharing one free port. */
async function startPair(): Promise<EchoServerHandle[]> {
  for (let attempt = 0; ; attempt++) {
    const a = await startEchoServer({ id: 'a', host: '127.0.0.1' });
    try {
      return [a, await startEchoServer({ id: 'b', host: '127.0.0.2', port: a.port })];
    } catch (error) {
      a.forceStop();
      if (attempt >= 5) throw error;
    }
  }
}

describe.skipIf(!checkDnsServerAvailable())('channel with a service config from DNS TXT (gRFC A2)', () => {
  let dns: TestDnsServer;
  let servers: EchoServerHandle[];
  let channel: SwitchyardChannel | undefined;
  let client: EchoClient | undefined;

  beforeAll(async () => {
    servers = await startPair();
    dns = await startDnsServer({
      records: { [NAME]: ['127.0.0.1', '127.0.0.2'] },
      txt: { [TXT_NAME]: grpcConfig([{ serviceConfig: roundRobin }]) },
    });
  });
  afterEach(() => {
    client?.close();
    channel?.close();
    client = undefined;
    channel = undefined;
    for (const s of servers) s.resetStats();
  });
  afterAll(async () => {
    await dns?.stop();
    await Promise.all((servers ?? []).map((s) => s.stop(100)));
  });

  async function setTxt(choices: unknown): Promise<void> {
    dns.setTxt(TXT_NAME, grpcConfig(choices));
    await dns.reload();
  }

  /** Open a channel on the DNS target; collects its `error` events and counts resolutions. */
  function open(options: SwitchyardChannelOptions = {}) {
    const target = `dns://${dns.address}/${NAME}:${servers[0]!.port}`;
    const ch = createChannel(target, insecure, { dnsRefreshIntervalMs: 500, minResolutionIntervalMs: 100, ...options });
    channel = ch;
    const errors: Error[] = [];
    let resolutions = 0;
    ch.events.on('error', (error) => errors.push(error));
    ch.events.on('resolution', () => resolutions++);
    client = makeEchoClient(target, insecure, { channelOverride: ch });
    const configErrors = () => errors.filter((e): e is ConfigError => e instanceof ConfigError);
    return { channel: ch, client, configErrors, resolutions: () => resolutions };
  }

  /** Backends that served `n` sequential calls. */
  async function backends(c: EchoClient, n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await unary(c, { message: 'spread' }, { timeoutMs: 10_000 })).backend);
    return out;
  }

  /** Calls FAIL_ONCE until one succeeds on its second attempt (the retry policy is in force). */
  async function untilRetried(c: EchoClient, what: string): Promise<void> {
    await waitFor(
      async () => (await unaryOutcome(c, FAIL_ONCE, { timeoutMs: 10_000 })).reply?.attempt === 1,
      what,
      20_000,
      50,
    );
  }

  async function expectRetried(c: EchoClient): Promise<void> {
    const reply = await unary(c, FAIL_ONCE, { timeoutMs: 10_000 });
    expect(reply.attempt).toBe(1); // the server saw grpc-previous-rpc-attempts: 1
  }

  it('applies the TXT config: round_robin, then a retry policy; an invalid record keeps the last good one', async () => {
    await setTxt([{ serviceConfig: roundRobin }]);
    const { channel: ch, client: c, configErrors } = open();
    await waitForState(ch, grpc.connectivityState.READY);

    // round_robin from DNS (the default would be pick_first): traffic reaches both backends, evenly.
    await waitFor(async () => new Set(await backends(c, 2)).size === 2, 'both backends to serve', 20_000, 10);
    const spread = await backends(c, 20);
    expect(spread.filter((b) => b === 'a').length).toBeGreaterThanOrEqual(5);
    expect(spread.filter((b) => b === 'b').length).toBeGreaterThanOrEqual(5);

    // No retry policy yet: a call failing once fails.
    const noRetry = await unaryOutcome(c, FAIL_ONCE, { timeoutMs: 10_000 });
    expect(noRetry.status.code).toBe(grpc.status.UNAVAILABLE);

    await setTxt([{ serviceConfig: withRetries }]);
    await untilRetried(c, 'the retry policy from TXT');
    expect(new Set(await backends(c, 10))).toEqual(new Set(['a', 'b']));

    // An invalid A2 record (unknown choice key): reported, the last good config stays.
    await setTxt([{ serviceConfig: roundRobin, clientLanguages: ['node'] }]);
    await waitFor(() => configErrors().length > 0, 'an error event for the invalid record', 20_000);
    expect(configErrors()[0]!.path).toBe(`${TXT_NAME}[0].clientLanguages`);
    await sleep(1_200); // a few more refreshes of the invalid record
    await expectRetried(c);
    expect(new Set(await backends(c, 10))).toEqual(new Set(['a', 'b']));

    // A valid record carrying an invalid service config (gRFC A6: maxAttempts >= 2): same outcome.
    const before = configErrors().length;
    const badRetry = { ...roundRobin, methodConfig: [{ name: [{ service: ECHO_SERVICE_NAME }], retryPolicy: { ...retryPolicy, maxAttempts: 1 } }] };
    await setTxt([{ serviceConfig: badRetry }]);
    await waitFor(() => configErrors().slice(before).some((e) => /maxAttempts/.test(e.path)), 'an error event for the invalid config', 20_000);
    await sleep(1_200);
    await expectRetried(c);
  });

  // Guards "calls wait for the first resolution and its service config": a call made the moment the
  // channel is created used the channel's default (no retry policy) before, and failed UNAVAILABLE.
  it('applies the TXT retry policy to the very first call of a new channel', async () => {
    await setTxt([{ serviceConfig: withRetries }]);
    const { channel: ch, client: c } = open();
    expect(ch.getConnectivityState(false)).toBe(grpc.connectivityState.IDLE);
    const reply = await unary(c, FAIL_ONCE, { timeoutMs: 10_000 });
    expect(reply.attempt).toBe(1); // the server saw grpc-previous-rpc-attempts: 1
    expect(ch.stats()).toMatchObject({ calls: 1, succeeded: 1, retries: 1 });
  });

  it('falls back to the channel option when the TXT record goes away', async () => {
    // The channel's own config retries and uses pick_first; the TXT config (round_robin, no retries) wins while present.
    await setTxt([{ serviceConfig: roundRobin }]);
    const own = { loadBalancingConfig: [{ pick_first: {} }], methodConfig: withRetries.methodConfig };
    const { client: c } = open({ serviceConfig: own });
    await waitFor(async () => new Set(await backends(c, 2)).size === 2, 'round_robin from TXT', 20_000, 10);
    expect((await unaryOutcome(c, FAIL_ONCE, { timeoutMs: 10_000 })).status.code).toBe(grpc.status.UNAVAILABLE);

    dns.setTxt(TXT_NAME, undefined);
    await dns.reload();
    await untilRetried(c, 'the channel option config after the TXT record is removed');
    expect(new Set(await backends(c, 10)).size).toBe(1); // pick_first again
  });

  // What README and docs/discovery.md promise. Breaking A21 (ignoring the bad record without a default)
  // makes the first call succeed; breaking the remedy makes the `{}` default channel fail too.
  it('an invalid first record fails calls without a default config (A21); a default {} or no lookup makes it harmless', async () => {
    await setTxt([{ serviceConfig: { methodConfig: [{ name: [{ method: 'NoService' }] }] } }]);
    const plain = open();
    const failed = await unaryOutcome(plain.client, { message: 'x' }, { timeoutMs: 10_000 });
    expect(failed.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(failed.status.details).toMatch(/name resolution failed: invalid service config from the resolver: .*name\[0\]\.service/);
    expect(plain.channel.getConnectivityState(false)).toBe(grpc.connectivityState.TRANSIENT_FAILURE);
    plain.client.close();

    const withDefault = open({ serviceConfig: {} });
    expect((await unary(withDefault.client, { message: 'x' }, { timeoutMs: 10_000 })).message).toBe('x');
    await waitFor(() => withDefault.configErrors().length > 0, 'an error event for the invalid record', 20_000);
    withDefault.client.close();

    const noLookup = open({ serviceConfigLookup: false });
    expect((await unary(noLookup.client, { message: 'x' }, { timeoutMs: 10_000 })).message).toBe('x');
    expect(noLookup.configErrors()).toEqual([]);
  });

  it('ignores the TXT record with serviceConfigLookup: false', async () => {
    await setTxt([{ serviceConfig: withRetries }]);
    const { channel: ch, client: c, configErrors, resolutions } = open({ serviceConfigLookup: false });
    await waitForState(ch, grpc.connectivityState.READY);
    await waitFor(() => resolutions() >= 4, 'several resolutions', 20_000);
    // pick_first (the default): one backend serves everything; no retry policy.
    expect(new Set(await backends(c, 10)).size).toBe(1);
    const outcome = await unaryOutcome(c, FAIL_ONCE, { timeoutMs: 10_000 });
    expect(outcome.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(servers[0]!.stats().methods.Unary.calls + servers[1]!.stats().methods.Unary.calls).toBe(11);
    expect(configErrors()).toEqual([]);
  });
});
