/**
 * A custom resolver: the `file` scheme (`npx tsx examples/custom-resolver.ts` runs a demo).
 *
 * `file:///etc/myapp/orders.json` reads the endpoints of a service from a JSON file and follows every
 * change to it, e.g. a file a config-management agent or a Kubernetes ConfigMap volume keeps up to date:
 *
 * ```json
 * { "endpoints": ["127.0.0.1:50051", { "addr": "[::1]:50052", "weight": 3 }], "serviceConfig": { … } }
 * ```
 *
 * An entry is `host:port` (an IPv4 or bracketed IPv6 literal; the resolver does no DNS) or an object
 * whose `addr` is one and whose other fields become endpoint attributes (the `weighted_random` policy in
 * `examples/custom-policy.ts` reads `weight`). `serviceConfig`, if present, is passed to the channel
 * (which validates it and keeps the last good one, gRFC A21); absent, the channel's own option applies.
 *
 * It follows the resolver rules of `docs/extending.md`: no I/O in `create()`; results go to the listener
 * asynchronously, never from inside `requestResolution()`; a bad file is reported with `onError` and the
 * last good list stays; re-reads on request are rate-limited to `minResolutionIntervalMs`; every timer
 * uses `context.clock`; `close()` stops the watcher and timers and no listener call happens after it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { basename, dirname, extname } from 'node:path';
import {
  ConfigError,
  registerResolver,
  type Endpoint,
  type Resolver,
  type ResolverContext,
  type ResolverFactory,
  type ResolverListener,
  type ResolverUpdate,
  type Target,
  type TimerHandle,
} from 'switchyard';

/** Wait this long after a change event before reading, in ms: editors and agents write in several steps. */
const SETTLE_MS = 20;

function parseAddr(text: unknown, where: string): { host: string; port: number } {
  const match = typeof text === 'string' ? /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) : null;
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const literal = host !== undefined && (match?.[1] !== undefined ? isIPv6(host) : isIPv4(host));
  if (!literal || !(port >= 1 && port <= 65535)) throw new Error(`${where}: must be "<IPv4>:<port>" or "[<IPv6>]:<port>", got ${JSON.stringify(text)}`);
  return { host: host!, port };
}

/**
 * Parses an endpoints file (format in the module comment).
 * @throws Error naming the bad entry (e.g. `endpoints[2].addr: must be …`) for anything malformed.
 */
export function parseEndpointsFile(text: string): ResolverUpdate {
  const json: unknown = JSON.parse(text);
  const list = (json as { endpoints?: unknown } | null)?.endpoints;
  if (!Array.isArray(list)) throw new Error('"endpoints" must be an array');
  const endpoints: Endpoint[] = list.map((entry: unknown, i) => {
    if (typeof entry === 'string') return { addresses: [parseAddr(entry, `endpoints[${i}]`)] };
    const { addr, ...attributes } = (entry ?? {}) as Record<string, unknown>;
    return { addresses: [parseAddr(addr, `endpoints[${i}].addr`)], attributes };
  });
  // undefined, not null: a file without a config leaves the channel's own `serviceConfig` option in force.
  return { endpoints, serviceConfig: (json as { serviceConfig?: unknown }).serviceConfig };
}

/** The absolute file path of a `file:///<path>` target. @throws ConfigError (path `target`) otherwise. */
function filePath(target: Target): string {
  const absolute = target.raw.toLowerCase().startsWith('file:///');
  if (!absolute || target.path === '' || target.path.endsWith('/')) {
    throw new ConfigError('target', 'a file target must be file:///<absolute path of a JSON file>', target.raw);
  }
  return `/${target.path}`;
}

function createFileResolver(path: string, listener: ResolverListener, context: ResolverContext): Resolver {
  const { clock } = context;
  let closed = false;
  let watcher: FSWatcher | undefined;
  let timer: TimerHandle | undefined;
  let timerDueAt = Infinity;
  let reading = false;
  let again = false;
  let lastReadAt = -Infinity;

  const read = async (): Promise<void> => {
    if (reading) {
      again = true; // one more read after this one, so the newest content always wins
      return;
    }
    reading = true;
    lastReadAt = clock.now();
    try {
      const update = parseEndpointsFile(await readFile(path, 'utf8'));
      if (!closed) listener.onUpdate(update);
    } catch (error) {
      if (!closed) listener.onError(new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`));
    } finally {
      reading = false;
      if (again && !closed) {
        again = false;
        void read();
      }
    }
  };

  /** Reads after `delayMs`, or sooner if a read is already scheduled sooner. */
  const readIn = (delayMs: number): void => {
    const dueAt = clock.now() + delayMs;
    if (closed || dueAt >= timerDueAt) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timerDueAt = dueAt;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerDueAt = Infinity;
      void read();
    }, delayMs);
  };

  const startWatching = (): void => {
    try {
      // Watch the directory, not the file: an atomic replace (write + rename) swaps the file's inode.
      watcher = watch(dirname(path), (_event, name) => {
        if (name === null || name.toString() === basename(path)) readIn(SETTLE_MS);
      });
      watcher.on('error', (error) => {
        watcher?.close();
        watcher = undefined;
        if (!closed) listener.onError(new Error(`${path}: watch failed: ${error.message}`));
      });
    } catch (error) {
      // The directory may not exist yet; the next requestResolution() tries again.
      queueMicrotask(() => {
        if (!closed) listener.onError(new Error(`${path}: cannot watch: ${(error as Error).message}`));
      });
    }
  };

  return {
    requestResolution() {
      if (closed) return;
      if (watcher === undefined) startWatching();
      // The watcher sees changes; a request (e.g. after a lost connection) re-reads at most once per interval.
      readIn(Math.max(0, lastReadAt + context.minResolutionIntervalMs - clock.now()));
    },
    close() {
      closed = true;
      watcher?.close();
      watcher = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * The `file` resolver factory (see the module comment). The `:authority` of calls is the file's base
 * name without extension (`file:///etc/myapp/orders.json` → `orders`), the service's own name.
 */
export const fileResolverFactory: ResolverFactory = {
  scheme: 'file',
  /** @throws ConfigError (path `target`) unless the target is `file:///<absolute path>`. */
  create(target, listener, context) {
    return createFileResolver(filePath(target), listener, context);
  },
  defaultAuthority(target) {
    const name = basename(target.path);
    return name.slice(0, name.length - extname(name).length) || 'localhost';
  },
};

/** Registers {@link fileResolverFactory} for the `file` scheme. Idempotent. */
export function registerFileResolver(): void {
  registerResolver(fileResolverFactory);
}

/** Demo: two in-process echo servers, then a third added by rewriting the file while calls run. */
async function main(): Promise<void> {
  const grpc = await import('@grpc/grpc-js');
  const { mkdtempSync, renameSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { createChannel } = await import('switchyard');
  const { EchoClient } = await import('./backend/echo-proto');
  const { startEchoServer } = await import('./backend/echo-server');
  registerFileResolver();
  const servers = await Promise.all(['a', 'b', 'c'].map((id) => startEchoServer({ id })));
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-resolver-'));
  const file = join(dir, 'echo.json');
  const publish = (count: number): void => {
    // Write-and-rename, as config agents do, so the resolver never reads a half-written file.
    writeFileSync(`${file}.tmp`, JSON.stringify({ endpoints: servers.slice(0, count).map((s) => s.address) }));
    renameSync(`${file}.tmp`, file);
  };
  publish(2);
  const credentials = grpc.credentials.createInsecure();
  const channel = createChannel(`file://${file}`, credentials, { serviceConfig: { loadBalancingConfig: [{ round_robin: {} }] } });
  channel.events.on('resolution', (e) => console.log(`resolution: ${e.addresses.join(', ')}`));
  const client = new EchoClient('echo', credentials, { channelOverride: channel });
  const call = (): Promise<string> =>
    new Promise((resolve, reject) =>
      client.Unary({ message: 'hi' }, new grpc.Metadata(), {}, (error, reply) => (error ? reject(error) : resolve(reply!.backend))),
    );
  const round = async (): Promise<string> => (await Promise.all(Array.from({ length: 9 }, call))).sort().join(' ');
  await call(); // connect first, so the round below sees every endpoint READY
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log(`9 calls: ${await round()}`);
  publish(3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`9 calls: ${await round()}`);
  client.close();
  channel.close();
  await Promise.all(servers.map((s) => s.stop(1_000)));
  rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
