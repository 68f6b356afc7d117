/**
 * The fault suite's rig: echo backends as child processes (so they can really be SIGKILLed, SIGSTOPped
 * and restarted on the same port), a DNS server (dnsmasq) serving the target, a switchyard channel whose
 * timers run through a counting clock, and the checks every scenario ends with:
 *
 * - every call ended no later than {@link DEADLINE_SLACK_MS} after its deadline (client clock);
 * - no unhandled rejection and no uncaught exception while the scenario ran;
 * - after `channel.close()`: no switchyard timer pending and no socket or timer left in
 *   `process.getActiveResourcesInfo()` beyond what was there before the channel was created.
 *
 * Backends listen on one port on several loopback addresses (127.0.0.2, .3, ...), so one DNS name with
 * several A records reaches several backends: A records carry no port, the target does.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { createChannel, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import { countingClock, type CountingClock } from './counting-clock';
import type { AttemptEvent, BackoffEvent, CommitEvent, ConnectivityEvent, ThrottledEvent } from '../../src/call/events';
import { startBackendProcess, type BackendProcess } from './backend-process';
import { sleep, waitFor } from './channel-wait';
import { startDnsServer, type TestDnsServer } from './dns-server';
import { makeEchoClient, type EchoClient, type EchoReply, type EchoRequest } from './echo-client';
import { ECHO_SERVICE_NAME } from './echo-server';
import { retryPolicyJson } from './resilience';

export const { status: Status, connectivityState: State } = grpc;
export const insecure = grpc.credentials.createInsecure();

/** The DNS name every fault scenario's target resolves. */
export const NAME = 'svc.faults.test';
/** Loopback addresses backends bind, one per backend (all on the fleet's one port). */
export const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'] as const;
/**
 * The bound: no call outlives its deadline by more than this, in ms, measured on the client
 * clock from the absolute deadline to the moment the status reaches the application.
 */
export const DEADLINE_SLACK_MS = 50;

/**
 * Channel options for the fault suite: reconnects and re-resolution scaled down from the production
 * defaults (1 s / 120 s backoff, 20 s connect timeout, 30 s DNS refresh) so that a scenario takes
 * seconds; the behaviour under test is the same.
 */
export const FAST_OPTIONS: SwitchyardChannelOptions = {
  dnsRefreshIntervalMs: 500,
  minResolutionIntervalMs: 100,
  initialReconnectBackoffMs: 100,
  maxReconnectBackoffMs: 1_000,
  minConnectTimeoutMs: 1_000,
};

/** The fault suite's retry policy for idempotent calls: UNAVAILABLE and RESOURCE_EXHAUSTED, up to 5 attempts. */
export function retryPolicy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return retryPolicyJson({
    maxAttempts: 5,
    initialBackoff: '0.05s',
    maxBackoff: '0.4s',
    retryableStatusCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'],
    ...overrides,
  });
}

/** A service config: `round_robin` and one method config for the whole echo service. */
export function serviceConfig(methodConfig: Record<string, unknown>, extra: Record<string, unknown> = {}): object {
  return {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [{ name: [{ service: ECHO_SERVICE_NAME }], ...methodConfig }],
    ...extra,
  };
}

// ---- process-wide guards --------------------------------------------------------------------------

const guardErrors: string[] = [];
let guardsInstalled = false;

/**
 * Record every unhandled rejection and uncaught exception of this worker (vitest reports them too, but
 * late and without the scenario's name). Idempotent; the handlers stay for the life of the worker.
 */
export function installProcessGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on('unhandledRejection', (reason) => guardErrors.push(`unhandledRejection: ${describeError(reason)}`));
  process.on('uncaughtException', (error) => guardErrors.push(`uncaughtException: ${describeError(error)}`));
}

function describeError(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ''}` : String(value);
}

/** Fail if any unhandled rejection or uncaught exception happened since the last call. */
export function expectNoProcessErrors(): void {
  const errors = guardErrors.splice(0);
  expect(errors, 'unhandled rejections / uncaught exceptions').toEqual([]);
}

export { countingClock, type CountingClock };

// ---- active handles ---------------------------------------------------------------------------------

/**
 * What a leak would show as: the timer, immediate, child process and pipe entries of
 * `process.getActiveResourcesInfo()` by type, plus this process's open internet sockets (read from
 * `/proc`, because grpc-js unrefs an idle HTTP/2 connection's socket, which then no longer shows in
 * `getActiveResourcesInfo()`), keyed `socket <proto> <remote address>`.
 */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (key: string): void => {
    out[key] = (out[key] ?? 0) + 1;
  };
  for (const type of process.getActiveResourcesInfo()) if (HANDLE_TYPES.has(type)) add(type);
  for (const socket of openInternetSockets()) add(`socket ${socket}`);
  return out;
}

const HANDLE_TYPES = new Set(['Timeout', 'Immediate', 'ProcessWrap', 'PipeWrap']);

/**
 * This process's TCP and UDP sockets as `<proto> <remote ip>:<port>` (Linux `/proc`; empty elsewhere).
 * Listening and unconnected sockets show the remote `0.0.0.0:0`.
 */
export function openInternetSockets(): string[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
          return match === null ? [] : [match[1]!];
        } catch {
          return []; // closed while listing
        }
      }),
    );
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let table: string;
    try {
      table = readFileSync(`/proc/net/${proto}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      out.push(`${proto} ${procAddress(fields[2]!)}`);
    }
  }
  return out;
}

/** `/proc/net/tcp` address (`0100007F:1F90`, little-endian hex IPv4) → `127.0.0.1:8080`; IPv6 left in hex. */
function procAddress(hex: string): string {
  const [ip = '', port = '0'] = hex.split(':');
  const portNumber = Number.parseInt(port, 16);
  if (ip.length !== 8) return `[${ip}]:${portNumber}`;
  const bytes = [6, 4, 2, 0].map((i) => Number.parseInt(ip.slice(i, i + 2), 16));
  return `${bytes.join('.')}:${portNumber}`;
}

/** The keys whose count in `now` exceeds `baseline`, with both counts; empty when nothing leaked. */
export function resourcesAbove(baseline: Record<string, number>, now: Record<string, number>, keys?: (key: string) => boolean): string[] {
  return Object.entries(now)
    .filter(([key, count]) => (keys === undefined || keys(key)) && count > (baseline[key] ?? 0))
    .map(([key, count]) => `${key}: ${baseline[key] ?? 0} before, ${count} after`);
}

/**
 * Wait (up to `timeoutMs`) until the process holds no more of the resources selected by `keys` than in
 * `baseline`; fail naming the extra ones otherwise. Sockets close a few ticks after `close()`.
 */
export async function expectResourcesBackTo(
  baseline: Record<string, number>,
  what: string,
  keys?: (key: string) => boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let extra = resourcesAbove(baseline, activeResources(), keys);
  while (extra.length > 0 && Date.now() < end) {
    await sleep(25);
    extra = resourcesAbove(baseline, activeResources(), keys);
  }
  expect(extra, `resources left after ${what}`).toEqual([]);
}

/** What a channel may create: timers and sockets (child processes and pipes belong to the fleet). */
const channelResource = (key: string): boolean => key === 'Timeout' || key === 'Immediate' || key.startsWith('socket ');

// ---- the fleet: DNS + backends ------------------------------------------------------------------------

/** Backends on one port across loopback addresses, and the DNS server naming them. */
export interface Fleet {
  readonly dns: TestDnsServer;
  /** The one port every backend listens on (the target's port). */
  readonly port: number;
  /** Backends by index; `backends[i]` listens on `HOSTS[i]`. */
  readonly backends: BackendProcess[];
  /** `dns://127.0.0.1:<dns>/svc.faults.test:<port>`. */
  readonly target: string;
  /** Point the name at these hosts (`[]`: NXDOMAIN) and wait until the DNS server answers so. */
  setAddresses(hosts: readonly string[]): Promise<void>;
  /** Start one more backend on `HOSTS[index]` (same port); it becomes `backends[index]`. */
  addBackend(index: number, args?: readonly string[]): Promise<BackendProcess>;
  /** Bring the fleet back to its initial shape: DNS answering all initial hosts, every initial backend serving. */
  restore(): Promise<void>;
  /**
   * Stop every backend and the DNS server, then check that no child process, pipe, socket or timer is
   * left beyond what the process had before {@link startFleet}.
   */
  close(): Promise<void>;
}

/**
 * Start `count` echo backends on `HOSTS[0..count)` sharing one port, and a DNS server answering
 * {@link NAME} with their addresses.
 * @param args extra `examples/backend/server.ts` arguments for every backend.
 */
export async function startFleet(count: number, args: readonly string[] = []): Promise<Fleet> {
  installProcessGuards();
  const baseline = activeResources();
  let lastError: unknown;
  // The first backend picks a free port on its address; it can be taken on another loopback address.
  for (let round = 0; round < 3; round++) {
    const backends: BackendProcess[] = [];
    try {
      const first = await startBackendProcess({ id: 'b0', host: HOSTS[0], args });
      backends.push(first);
      const rest = await Promise.all(
        Array.from({ length: count - 1 }, (_, i) => startBackendProcess({ id: `b${i + 1}`, host: HOSTS[i + 1], port: first.port, args })),
      );
      backends.push(...rest);
      return await makeFleet(backends, count, args, baseline);
    } catch (error) {
      lastError = error;
      await Promise.all(backends.map((b) => b.close()));
    }
  }
  throw lastError;
}

async function makeFleet(backends: BackendProcess[], count: number, args: readonly string[], baseline: Record<string, number>): Promise<Fleet> {
  const port = backends[0]!.port;
  const initialHosts = HOSTS.slice(0, count);
  const dns = await startDnsServer({ records: { [NAME]: initialHosts } });
  const fleet: Fleet = {
    dns,
    port,
    backends,
    target: `dns://${dns.address}/${NAME}:${port}`,
    async setAddresses(hosts) {
      dns.setRecords(NAME, hosts);
      await dns.reload();
    },
    async addBackend(index, extra = args) {
      await backends[index]?.close();
      const backend = await startBackendProcess({ id: `b${index}`, host: HOSTS[index], port, args: extra });
      backends[index] = backend;
      return backend;
    },
    async restore() {
      await dns.resume();
      dns.setTxt(NAME, undefined);
      await fleet.setAddresses(initialHosts);
      for (let i = 0; i < backends.length; i++) {
        const backend = backends[i]!;
        if (i >= count) {
          await backend.close();
          continue;
        }
        backend.cont();
        if (!backend.running) await backend.restart();
        await backend.setBehaviour({});
        await backend.resetStats();
      }
      backends.length = count;
    },
    async close() {
      await Promise.all(backends.map((b) => b.close()));
      await dns.stop();
      await expectResourcesBackTo(baseline, 'stopping every backend and the DNS server');
    },
  };
  return fleet;
}

/** Unary calls served so far by `backend` (its current child process). */
export async function served(backend: BackendProcess): Promise<number> {
  return (await backend.stats()).methods.Unary.calls;
}

// ---- a probe: one channel, its client, its events, its calls --------------------------------------------

/** How one call ended, as the application saw it. */
export interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
  /** The reply (unary) or the replies (streams) received. */
  readonly replies: EchoReply[];
  /** Absolute deadline, ms since the epoch. */
  readonly deadline: number;
  /** When the status reached the application (client clock). */
  readonly endedAt: number;
  /** `endedAt - deadline`: negative when the call ended before its deadline. */
  readonly overshootMs: number;
}

/** Options of one call made through a {@link Probe}. */
export interface CallOptions {
  /** Relative timeout in ms; the absolute deadline is taken when the call starts. Default 10 000. */
  timeoutMs?: number;
  /** grpc-js wait-for-ready (carried in the metadata options). */
  waitForReady?: boolean;
  /** Called with the call object as soon as it exists (to cancel it, say). */
  onCall?: (call: grpc.Call) => void;
}

/** Everything a channel emitted. */
export interface ProbeEvents {
  attempts: AttemptEvent[];
  backoffs: BackoffEvent[];
  commits: CommitEvent[];
  throttled: ThrottledEvent[];
  connectivity: ConnectivityEvent[];
  resolutions: string[][];
  errors: string[];
}

/** One switchyard channel on the fleet's target with everything needed to check a scenario. */
export interface Probe {
  readonly channel: SwitchyardChannel;
  readonly client: EchoClient;
  readonly clock: CountingClock;
  readonly events: ProbeEvents;
  /** Every call made through the probe, in the order they ended. */
  readonly outcomes: Outcome[];
  unary(request: EchoRequest, options?: CallOptions): Promise<Outcome>;
  serverStream(request: EchoRequest, options?: CallOptions): Promise<Outcome>;
  /**
   * A bidi call: writes `first`, waits for its reply, then lets `next` drive the rest (write more, end,
   * cancel), and resolves with the outcome.
   */
  bidi(first: EchoRequest, next: (call: grpc.ClientDuplexStream<EchoRequest, EchoReply>) => void, options?: CallOptions): Promise<Outcome>;
  /** Wait until the channel reports `state` (asking it to connect), within `timeoutMs`. */
  waitForState(state: grpc.connectivityState, timeoutMs?: number): Promise<void>;
  /**
   * Close client and channel, then check the scenario's common invariants: deadlines, process errors,
   * no timer pending on the channel's clock, no socket or timer left over.
   * @param tolerated resources a scenario documents as left over (key → count), e.g. a stalled socket.
   */
  closeAndCheck(tolerated?: Record<string, number>): Promise<void>;
}

/**
 * Open a channel on `target` (usually `fleet.target`) with {@link FAST_OPTIONS} under `options`, a
 * counting clock, and an echo client on it (insecure unless `credentials` says otherwise). Resource counts are taken just before, for the leak check.
 */
export function openProbe(target: string, options: SwitchyardChannelOptions, credentials: grpc.ChannelCredentials = insecure): Probe {
  installProcessGuards();
  // How late this process's own timers ran while the scenario ran: reported with a late call, to tell
  // a switchyard delay from a process that was not scheduled or was blocked.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const baseline = activeResources();
  const clock = countingClock();
  const channel = createChannel(target, credentials, { ...FAST_OPTIONS, ...options, clock });
  const client = makeEchoClient(target, credentials, { channelOverride: channel });
  const events: ProbeEvents = { attempts: [], backoffs: [], commits: [], throttled: [], connectivity: [], resolutions: [], errors: [] };
  channel.events.on('attempt', (e) => events.attempts.push(e));
  channel.events.on('backoff', (e) => events.backoffs.push(e));
  channel.events.on('commit', (e) => events.commits.push(e));
  channel.events.on('throttled', (e) => events.throttled.push(e));
  channel.events.on('connectivity', (e) => events.connectivity.push(e));
  channel.events.on('resolution', (e) => events.resolutions.push([...e.addresses].sort()));
  channel.events.on('error', (e) => events.errors.push(e.message));
  const outcomes: Outcome[] = [];

  function settle(deadline: number, replies: EchoReply[], status: grpc.StatusObject, resolve: (o: Outcome) => void): void {
    const endedAt = Date.now();
    const outcome = { code: status.code, details: status.details, replies, deadline, endedAt, overshootMs: endedAt - deadline };
    outcomes.push(outcome);
    resolve(outcome);
  }

  function start(options: CallOptions | undefined): { deadline: number; metadata: grpc.Metadata } {
    const deadline = Date.now() + (options?.timeoutMs ?? 10_000);
    const metadata = new grpc.Metadata(options?.waitForReady ? { waitForReady: true } : undefined);
    return { deadline, metadata };
  }

  const probe: Probe = {
    channel,
    client,
    clock,
    events,
    outcomes,
    unary(request, options) {
      return new Promise((resolve) => {
        const { deadline, metadata } = start(options);
        const replies: EchoReply[] = [];
        const call = client.Unary(request, metadata, { deadline }, (_error, reply) => {
          if (reply !== undefined) replies.push(reply);
        });
        // 'status' follows the callback in grpc-js, so the reply is in by then.
        call.on('status', (status: grpc.StatusObject) => settle(deadline, replies, status, resolve));
        options?.onCall?.(call);
      });
    },
    serverStream(request, options) {
      return new Promise((resolve) => {
        const { deadline, metadata } = start(options);
        const replies: EchoReply[] = [];
        const call = client.ServerStream(request, metadata, { deadline });
        call.on('data', (reply: EchoReply) => replies.push(reply));
        call.on('error', () => {});
        call.on('status', (status: grpc.StatusObject) => settle(deadline, replies, status, resolve));
        options?.onCall?.(call);
      });
    },
    bidi(first, next, options) {
      return new Promise((resolve) => {
        const { deadline, metadata } = start(options);
        const replies: EchoReply[] = [];
        const call = client.Bidi(metadata, { deadline });
        call.on('data', (reply: EchoReply) => {
          replies.push(reply);
          if (replies.length === 1) next(call);
        });
        call.on('error', () => {});
        call.on('status', (status: grpc.StatusObject) => settle(deadline, replies, status, resolve));
        options?.onCall?.(call);
        call.write(first);
      });
    },
    waitForState(state, timeoutMs = 15_000) {
      return waitForChannelState(channel, state, timeoutMs);
    },
    async closeAndCheck(tolerated = {}) {
      client.close();
      channel.close();
      loopDelay.disable();
      const worstLoopDelayMs = Math.round(loopDelay.max / 1e6);
      for (const outcome of outcomes) {
        expect(
          outcome.overshootMs,
          `call ended ${outcome.overshootMs} ms after its deadline (${outcome.code} ${outcome.details}); ` +
            `worst event-loop delay during the scenario: ${worstLoopDelayMs} ms`,
        ).toBeLessThanOrEqual(DEADLINE_SLACK_MS);
      }
      expectNoProcessErrors();
      await waitFor(() => clock.pending() === 0, 'switchyard timers to be cleared after close()', 2_000).catch(() => undefined);
      expect(clock.pending(), 'switchyard timers pending after close()').toBe(0);
      const allowed = { ...baseline };
      for (const [key, count] of Object.entries(tolerated)) allowed[key] = (allowed[key] ?? 0) + count;
      await expectResourcesBackTo(allowed, 'channel.close()', channelResource);
    },
  };
  return probe;
}

/** Follow `channel` with the public grpc-js API until it is in `wanted`. */
function waitForChannelState(channel: grpc.ChannelInterface, wanted: grpc.connectivityState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === wanted) return resolve();
      if (Date.now() >= deadline) return reject(new Error(`channel is ${State[state]}, wanted ${State[wanted]}`));
      channel.watchConnectivityState(state, deadline, () => check());
    };
    check();
  });
}

/**
 * Make unary calls one after another until every backend in `ids` has served one, so a scenario starts
 * with connections to all of them (round_robin).
 */
export async function warmUp(probe: Probe, ids: readonly string[], timeoutMs = 15_000): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const outcome = await probe.unary({ message: 'warm-up' }, { timeoutMs: 5_000, waitForReady: true });
      if (outcome.replies[0] !== undefined) seen.add(outcome.replies[0].backend);
      return ids.every((id) => seen.has(id));
    },
    `backends ${ids.join(', ')} to serve`,
    timeoutMs,
    1,
  );
}

/** Keep `concurrency` unary loops running until `stop()` resolves; returns every outcome. */
export async function load(probe: Probe, concurrency: number, request: EchoRequest, stop: Promise<void>, options?: CallOptions): Promise<Outcome[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const all: Outcome[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopped) all.push(await probe.unary(request, options));
    }),
  );
  return all;
}

/** The codes of `outcomes` that are not OK, with their details, for assertion messages. */
export function failures(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o) => o.code !== Status.OK).map((o) => `${Status[o.code]}: ${o.details}`);
}

/** The backend ids that served the OK outcomes. */
export function servedBy(outcomes: readonly Outcome[]): string[] {
  return outcomes.flatMap((o) => o.replies.map((r) => r.backend));
}

export { sleep, waitFor };

// ---- a backend with custom server options -----------------------------------------------------------

/** A child-process echo backend started by {@link startOptionsBackend}. */
export interface OptionsBackend {
  readonly port: number;
  /** SIGKILL the child and wait for it to exit. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start `test/helpers/options-backend.ts` as a child process with these grpc-js server options.
 * @throws Error (rejects) when it does not print its ready line within 30 s.
 */
export async function startOptionsBackend(id: string, host: string, port: number, serverOptions: grpc.ServerOptions): Promise<OptionsBackend> {
  const script = path.resolve(__dirname, 'options-backend.ts');
  const loader = pathToFileURL(require.resolve('tsx')).href;
  const child = fork(script, [id, host, String(port), JSON.stringify(serverOptions)], {
    execArgv: ['--import', loader],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`options backend ${id} not ready after 30 s`)), 30_000);
      createInterface({ input: child.stdout! }).once('line', (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`options backend ${id} exited before it was ready`));
      });
    });
    const ready = JSON.parse(line) as { port: number };
    return { port: ready.port, close };
  } catch (error) {
    await close();
    throw error;
  }
}
