/**
 * Child process for the lazy-loading test: imports switchyard's public entry point in a fresh
 * process, reports which of `etcd3` / `cockatiel` are in `require.cache`, then uses the etcd resolver
 * once (against a closed loopback port) and reports again, so the test sees both that the import
 * loads nothing and that first use does load the packages (the check can see them).
 *
 * Prints one JSON line: `{"afterImport": string[], "afterUse": string[]}`.
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel } from '../../src/index';

/** The lazily loaded packages currently in the CommonJS module cache. */
function loadedPackages(): string[] {
  const found = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const match = /[\\/]node_modules[\\/](etcd3|cockatiel)[\\/]/.exec(file);
    if (match) found.add(match[1]!);
  }
  return [...found].sort();
}

const afterImport = loadedPackages();
const closedPort = process.argv[2] ?? '1';
const channel = createChannel('etcd:///lazy', grpc.credentials.createInsecure(), {
  resolverOptions: { etcd: { endpoints: [`127.0.0.1:${closedPort}`], requestTimeoutMs: 2_000 } },
});
const timeout = setTimeout(() => {
  process.stderr.write('the etcd resolver reported nothing within 10 s\n');
  process.exit(2);
}, 10_000);
// The resolver's first failure proves it ran, so the packages had to be loaded by then.
channel.events.once('error', () => {
  clearTimeout(timeout);
  const afterUse = loadedPackages();
  channel.close();
  process.stdout.write(`${JSON.stringify({ afterImport, afterUse })}\n`);
});
channel.getConnectivityState(true);
