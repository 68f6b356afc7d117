import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { accessSync, constants, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `dnsmasq-base` installs the binary. */
export const DNSMASQ_PATH = '/usr/sbin/dnsmasq';

/** The one line integration suites print when dnsmasq is missing and they skip. */
export const DNSMASQ_MISSING_MESSAGE =
  'SKIPPED: dnsmasq not installed — install with: sudo apt-get install -y dnsmasq-base';

/** True when dnsmasq can be run here (the binary exists and is executable). */
export function dnsServerAvailable(): boolean {
  try {
    accessSync(DNSMASQ_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let warned = false;

/**
 * For suites that `describe.skipIf(!dnsServerAvailable())`: prints {@link DNSMASQ_MISSING_MESSAGE}
 * once per process when dnsmasq is missing.
 * @returns whether dnsmasq is available.
 */
export function checkDnsServerAvailable(): boolean {
  const available = dnsServerAvailable();
  if (!available && !warned) {
    warned = true;
    console.warn(DNSMASQ_MISSING_MESSAGE);
  }
  return available;
}

/** Initial contents of a {@link TestDnsServer}. */
export interface DnsServerOptions {
  /** Zone the server is authoritative for; unknown names under it get NXDOMAIN. Default `test`. */
  readonly zone?: string;
  /** Address records: name → IP literals (loopback only: 127.0.0.0/8 or ::1). */
  readonly records?: Readonly<Record<string, readonly string[]>>;
  /** TXT records: name → the character-strings of one record. */
  readonly txt?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A real DNS server (dnsmasq) on 127.0.0.1 for integration tests: UDP and TCP on {@link port},
 * authoritative for one zone (default `test`), no upstream, no cache, TTL 0 — a change is visible to
 * the next query once {@link reload} has resolved.
 */
export interface TestDnsServer {
  /** The UDP/TCP port on 127.0.0.1. Stays the same across {@link restart}. */
  readonly port: number;
  /** `127.0.0.1:<port>`, ready for a `dns://127.0.0.1:<port>/name:port` target's authority. */
  readonly address: string;
  /**
   * Set the A/AAAA records of `name` (replacing earlier ones; `[]` removes the name, so it becomes
   * NXDOMAIN). Applied by {@link reload}.
   * @throws Error if `name` is not under the zone or an address is not a loopback IP literal.
   */
  setRecords(name: string, addresses: readonly string[]): void;
  /**
   * Set one TXT record at `name` made of these character-strings (dnsmasq splits a string longer than
   * 255 bytes into 255-byte pieces); `undefined` removes it. Applied by {@link reload} (a restart on
   * the same port: dnsmasq reads TXT records only at start).
   * @throws Error if `name` is not under the zone, a string has control characters, or the record is
   *   too long for one dnsmasq config line (about 950 bytes of text; see MAX_CONF_LINE_BYTES).
   */
  setTxt(name: string, strings: readonly string[] | undefined): void;
  /** Like {@link setTxt} with several TXT records at one name (`[]` removes them). */
  setTxtRecords(name: string, records: readonly (readonly string[])[]): void;
  /**
   * Apply the changes: re-read the hosts file (SIGHUP) or, if TXT records changed, restart. Resolves
   * once the server answers with the new data. While paused, the change is applied on {@link resume}.
   */
  reload(): Promise<void>;
  /** Stop and start dnsmasq again on the same port with the current records. */
  restart(): Promise<void>;
  /** Freeze the process (SIGSTOP): queries are not answered, they time out. */
  pause(): void;
  /** Unfreeze (SIGCONT) and apply a reload requested while paused. */
  resume(): Promise<void>;
  /** Kill dnsmasq and delete its files. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
/**
 * Longest config line written for dnsmasq, in bytes: it reads config lines into a buffer of about
 * 1 KiB (MAXDNAME) and fails to start on longer ones with a misleading `missing "` error.
 */
const MAX_CONF_LINE_BYTES = 1000;
const PROBE_TIMEOUT_MS = 250;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Start dnsmasq in the foreground on a free port of 127.0.0.1.
 * @throws Error if dnsmasq is missing (check {@link dnsServerAvailable} first) or does not come up.
 */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<TestDnsServer> {
  if (!dnsServerAvailable()) throw new Error(DNSMASQ_MISSING_MESSAGE);
  const zone = (options.zone ?? 'test').replace(/^\.+|\.+$/g, '');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-dns-'));
  const hostsFile = join(dir, 'hosts');
  const confFile = join(dir, 'dnsmasq.conf');
  const records = new Map<string, readonly string[]>();
  const txt = new Map<string, readonly (readonly string[])[]>();
  let generation = 0;
  let txtDirty = false;
  let paused = false;
  let reloadPending = false;
  let stopped = false;
  let child: ChildProcess | undefined;
  let port = 0;
  let stderrTail = '';

  const sentinel = (): string => `harness-sentinel-${generation}.${zone}`;

  const checkName = (name: string): string => {
    const lower = name.toLowerCase().replace(/\.$/, '');
    if (!lower.endsWith(`.${zone}`)) throw new Error(`dns-server: "${name}" is not under the zone "${zone}"`);
    if (!/^[a-z0-9_.-]+$/.test(lower)) throw new Error(`dns-server: "${name}" is not a plain host name`);
    return lower;
  };

  const writeFiles = (): void => {
    const lines = [`127.0.0.1 ${sentinel()}`];
    for (const [name, addresses] of records) for (const ip of addresses) lines.push(`${ip} ${name}`);
    atomicWrite(hostsFile, `${lines.join('\n')}\n`);
    const conf = [...txt].flatMap(([name, recs]) => recs.map((strings) => txtConfLine(name, strings)));
    atomicWrite(confFile, `${conf.join('\n')}\n`);
  };

  const onExit = (): void => {
    try {
      if (child?.pid !== undefined && child.exitCode === null) {
        process.kill(child.pid, 'SIGCONT');
        child.kill('SIGKILL');
      }
    } catch {
      // Already gone.
    }
  };
  process.once('exit', onExit);

  const launch = async (wantedPort: number): Promise<void> => {
    writeFiles();
    stderrTail = '';
    const proc = spawn(
      DNSMASQ_PATH,
      [
        '--no-daemon', // foreground, no pid file, no privilege drop, stderr logging
        `--conf-file=${confFile}`,
        '--no-resolv',
        '--no-hosts',
        '--bind-interfaces',
        '--listen-address=127.0.0.1',
        `--port=${wantedPort}`,
        `--addn-hosts=${hostsFile}`,
        '--local-ttl=0',
        '--cache-size=0',
        '--no-negcache',
        `--local=/${zone}/`,
        '--log-facility=-',
        '--pid-file=',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => reject(new Error(`dnsmasq exited (${code ?? signal}): ${stderrTail.trim()}`)));
      proc.once('error', reject);
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForName(wantedPort, sentinel(), START_TIMEOUT_MS), exited]);
    } catch (error) {
      await killAndWait(proc);
      throw error;
    }
    port = wantedPort;
  };

  const start = async (fixedPort: number | undefined): Promise<void> => {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await launch(fixedPort ?? (await findFreeUdpTcpPort()));
        return;
      } catch (error) {
        // Another process may grab the port between the probe and dnsmasq's bind: try again.
        lastError = error;
        await delay(100);
      }
    }
    throw lastError;
  };

  const restart = async (): Promise<void> => {
    if (stopped) throw new Error('dns-server: stopped');
    if (child !== undefined) {
      if (paused) process.kill(child.pid as number, 'SIGCONT');
      await killAndWait(child);
    }
    paused = false;
    reloadPending = false;
    txtDirty = false;
    generation++;
    await start(port);
  };

  const reload = async (): Promise<void> => {
    if (stopped) throw new Error('dns-server: stopped');
    if (paused) {
      reloadPending = true;
      return;
    }
    if (txtDirty) return restart();
    generation++;
    writeFiles();
    child?.kill('SIGHUP');
    await waitForName(port, sentinel(), START_TIMEOUT_MS);
  };

  const setTxtRecords = (name: string, recs: readonly (readonly string[])[]): void => {
    const key = checkName(name);
    if (recs.length === 0) txt.delete(key);
    else txt.set(key, recs.map((strings) => checkTxtLine(key, checkTxt(strings))));
    txtDirty = true;
  };

  for (const [name, addresses] of Object.entries(options.records ?? {})) records.set(checkName(name), checkIps(addresses));
  for (const [name, strings] of Object.entries(options.txt ?? {})) {
    const key = checkName(name);
    txt.set(key, [checkTxtLine(key, checkTxt(strings))]);
  }
  try {
    await start(undefined);
  } catch (error) {
    process.removeListener('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    setRecords(name, addresses) {
      const key = checkName(name);
      if (addresses.length === 0) records.delete(key);
      else records.set(key, checkIps(addresses));
    },
    setTxt(name, strings) {
      setTxtRecords(name, strings === undefined ? [] : [strings]);
    },
    setTxtRecords,
    reload,
    restart,
    pause() {
      if (child?.pid === undefined || paused) return;
      process.kill(child.pid, 'SIGSTOP');
      paused = true;
    },
    async resume() {
      if (child?.pid === undefined || !paused) return;
      process.kill(child.pid, 'SIGCONT');
      paused = false;
      if (reloadPending) {
        reloadPending = false;
        await reload();
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child !== undefined) {
        if (paused && child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
        await killAndWait(child);
      }
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function checkIps(addresses: readonly string[]): string[] {
  for (const ip of addresses) {
    // Tests stay on loopback: never let a record point anywhere else.
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip) && ip !== '::1') {
      throw new Error(`dns-server: ${ip} is not a loopback address (127.0.0.0/8 or ::1)`);
    }
  }
  return [...addresses];
}

function checkTxt(strings: readonly string[]): string[] {
  for (const s of strings) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(s)) throw new Error(`dns-server: TXT string ${JSON.stringify(s)} has control characters`);
  }
  return [...strings];
}

function txtConfLine(name: string, strings: readonly string[]): string {
  return `txt-record=${[name, ...strings.map(quoteConfString)].join(',')}`;
}

function checkTxtLine(name: string, strings: string[]): string[] {
  const bytes = Buffer.byteLength(txtConfLine(name, strings));
  if (bytes > MAX_CONF_LINE_BYTES) {
    throw new Error(`dns-server: TXT record at ${name} needs a ${bytes}-byte config line; dnsmasq takes at most ${MAX_CONF_LINE_BYTES}`);
  }
  return strings;
}

// dnsmasq config files: inside double quotes a comma is literal and `\\` / `\"` are escapes.
function quoteConfString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function atomicWrite(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForName(port: number, name: string, timeoutMs: number): Promise<void> {
  const resolver = new dnsPromises.Resolver({ timeout: PROBE_TIMEOUT_MS, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await resolver.resolve4(name);
      return;
    } catch (error) {
      lastError = error;
      await delay(50);
    }
  }
  throw new Error(`dns-server: no answer for ${name} on 127.0.0.1:${port} within ${timeoutMs} ms (${String(lastError)})`);
}

async function killAndWait(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both). */
async function findFreeUdpTcpPort(): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
}
