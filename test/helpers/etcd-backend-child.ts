/**
 * Child process for the etcd channel tests: a real echo backend that registers itself in etcd, the
 * way a Node server uses `registerEtcdEndpoint()`. Both die together when the test SIGKILLs the process, so the
 * record stays in etcd until its lease expires.
 *
 * argv[2]: JSON `{ id, endpoints, service, ttlSeconds }`. Prints `ready <addr>` once the echo server
 * listens on an ephemeral 127.0.0.1 port and its record is written; exits 1 if either fails.
 */
import { registerEtcdEndpoint } from '../../src/index';
import { startEchoServer } from './echo-server';

interface ChildOptions {
  id: string;
  endpoints: string[];
  service: string;
  ttlSeconds: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const server = await startEchoServer({ id: options.id });
  await registerEtcdEndpoint({ endpoints: options.endpoints, service: options.service, addr: server.address, ttlSeconds: options.ttlSeconds });
  process.stdout.write(`ready ${server.address}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`backend child failed: ${String(err)}\n`);
  process.exit(1);
});
