/**
 * Real etcd servers on loopback for integration tests and the demo (`--discovery etcd`): one member or
 * a cluster, each on ephemeral 127.0.0.1 client and peer ports with a temporary data directory. Members
 * can be killed, frozen (SIGSTOP), resumed and restarted on the same ports and data. Every process and
 * directory is removed by `close()` and, as a safety net, when this process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The command that installs etcd on Debian and Ubuntu. */
export const ETCD_INSTALL_COMMAND = 'sudo apt-get install -y etcd-server etcd-client';

/** The one line a suite prints when it skips because etcd is missing. */
export const ETCD_SKIP_MESSAGE = `SKIPPED: etcd not installed — install with: ${ETCD_INSTALL_COMMAND}`;

const ETCD_BIN = process.env.ETCD_BIN ?? 'etcd';

let available: boolean | undefined;

/** True when an `etcd` binary (or `$ETCD_BIN`) runs. Cached. */
export function etcdAvailable(): boolean {
  available ??= spawnSync(ETCD_BIN, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return available;
}

/** One etcd member. */
export interface EtcdMember {
  readonly name: string;
  /** `127.0.0.1:<client port>`, the form switchyard's etcd options take. */
  readonly endpoint: string;
  /** `http://127.0.0.1:<client port>`. */
  readonly clientUrl: string;
  /** True between a successful start and kill(). */
  readonly running: boolean;
  /** The process id, while running. */
  readonly pid: number | undefined;
  /** SIGKILL the member and wait until it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start the member again on the same ports and data directory; resolves when it is healthy. */
  restart(): Promise<void>;
}

/** A running etcd cluster (possibly of one member). */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** The client endpoints of all members (`127.0.0.1:<port>`). */
  readonly endpoints: readonly string[];
  /** The current leader among the running members (asks each member's `/v3/maintenance/status`). */
  leader(): Promise<EtcdMember>;
  /** Kill every member and delete the data directories. Idempotent. */
  close(): Promise<void>;
}

interface MemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
}

/** Options of {@link startEtcd} and {@link startEtcdCluster}. */
export interface EtcdStartOptions {
  /**
   * Also clean up on SIGINT, SIGTERM and SIGHUP (then re-raise the signal). Default true, for test
   * runners; a program with its own signal handling (the demo) passes false and relies on `close()`
   * and the exit hook.
   */
  cleanupOnSignals?: boolean;
}

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
let signalHooksInstalled = false;

function installExitHook(onSignals: boolean): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', cleanup);
  }
  if (!onSignals || signalHooksInstalled) return;
  signalHooksInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

/** Kills every etcd still running and deletes the data directories (sync: it runs in the exit hook). */
function cleanup(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/**
 * Start a single-member etcd on loopback. Resolves when it is healthy.
 * @throws Error (rejects) when etcd is not installed ({@link ETCD_SKIP_MESSAGE}) or does not become healthy.
 */
export async function startEtcd(options?: EtcdStartOptions): Promise<EtcdCluster> {
  return startEtcdCluster(1, options);
}

/**
 * Start an `size`-member etcd cluster on loopback ports with short raft timers (50 ms heartbeat,
 * 500 ms election timeout) so leader changes take about a second. Resolves when every member is healthy.
 * @throws Error (rejects) when etcd is not installed ({@link ETCD_SKIP_MESSAGE}) or a member does not
 *   become healthy within 30 s (three tries with fresh ports).
 */
export async function startEtcdCluster(size: number, options?: EtcdStartOptions): Promise<EtcdCluster> {
  if (!etcdAvailable()) throw new Error(ETCD_SKIP_MESSAGE);
  installExitHook(options?.cleanupOnSignals ?? true);
  let lastError: unknown;
  // A port found free can be taken before etcd binds it; start over with new ports then.
  for (let tries = 0; tries < 3; tries++) {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-etcd-'));
    liveDirs.add(dir);
    const ports = await freePorts(size * 2);
    const specs: MemberSpec[] = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      clientPort: ports[2 * i]!,
      peerPort: ports[2 * i + 1]!,
    }));
    const members = specs.map((spec) => createMember(spec, specs, dir));
    try {
      await Promise.all(members.map((m) => m.start()));
      return makeCluster(members, dir);
    } catch (err) {
      lastError = err;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
  }
  throw lastError;
}

function makeCluster(members: (EtcdMember & { start(): Promise<void> })[], dir: string): EtcdCluster {
  let closed = false;
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    async leader() {
      for (let i = 0; i < 100; i++) {
        for (const member of members) {
          if (!member.running) continue;
          const status = await memberStatus(member).catch(() => undefined);
          if (status === undefined || status.leader === '0') continue;
          for (const candidate of members) {
            if (!candidate.running) continue;
            const s = await memberStatus(candidate).catch(() => undefined);
            if (s?.memberId === status.leader) return candidate;
          }
        }
        await sleep(100);
      }
      throw new Error('no etcd leader found');
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(members.map((m) => m.kill()));
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}

function createMember(spec: MemberSpec, all: readonly MemberSpec[], dir: string): EtcdMember & { start(): Promise<void> } {
  const clientUrl = `http://127.0.0.1:${spec.clientPort}`;
  const peerUrl = `http://127.0.0.1:${spec.peerPort}`;
  const logPath = join(dir, `${spec.name}.log`);
  const args = [
    '--name', spec.name,
    '--data-dir', join(dir, `${spec.name}.etcd`),
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', all.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(','),
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', `switchyard-${process.pid}-${all[0]!.clientPort}`,
    '--heartbeat-interval', '50',
    '--election-timeout', '500',
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    '--log-level', 'warn',
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const log = openSync(logPath, 'a');
    const proc = spawn(ETCD_BIN, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    child = proc;
    liveChildren.add(proc);
    let hasExited = false;
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        hasExited = true;
        liveChildren.delete(proc);
        if (child === proc) child = undefined;
        resolve();
      });
    });
    proc.once('error', () => undefined);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (hasExited) break;
      if (await healthy(spec.clientPort)) return;
      await sleep(100);
    }
    const tail = safeRead(logPath).split('\n').slice(-15).join('\n');
    throw new Error(`etcd ${spec.name} on ${clientUrl} did not become healthy${hasExited ? ' (exited)' : ''}:\n${tail}`);
  };

  return {
    name: spec.name,
    endpoint: `127.0.0.1:${spec.clientPort}`,
    clientUrl,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    start,
    async kill() {
      const proc = child;
      if (proc === undefined) return;
      proc.kill('SIGKILL');
      await exited;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (child !== undefined) throw new Error(`etcd ${spec.name} is still running`);
      await start();
    },
  };
}

async function healthy(port: number): Promise<boolean> {
  const body = await httpCall(port, 'GET', '/health').catch(() => undefined);
  return body !== undefined && /"health"\s*:\s*"true"/.test(body);
}

async function memberStatus(member: EtcdMember): Promise<{ memberId: string; leader: string }> {
  const port = Number(member.endpoint.split(':')[1]);
  const body = await httpCall(port, 'POST', '/v3/maintenance/status', '{}');
  // uint64 ids are strings in the gateway's JSON; read them as text so no precision is lost.
  const memberId = /"member_id"\s*:\s*"?(\d+)"?/.exec(body)?.[1];
  const leader = /"leader"\s*:\s*"?(\d+)"?/.exec(body)?.[1];
  if (memberId === undefined || leader === undefined) throw new Error(`unexpected status: ${body}`);
  return { memberId, leader };
}

function httpCall(port: number, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 1_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`HTTP ${res.statusCode}: ${data}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** `count` distinct loopback ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
