/**
 * An echo backend child process with arbitrary grpc-js *server* options, for fault scenarios that need a
 * server-side setting `examples/backend/server.ts` has no flag for (e.g. `grpc.max_connection_age_ms`).
 *
 *   node --import tsx test/helpers/options-backend.ts <id> <host> <port> '<server options JSON>'
 *
 * Prints `{"ready":true,"port":N}` once listening; exits when the parent disconnects (IPC) or on SIGTERM.
 */
import { startEchoServer } from '../../examples/backend/echo-server';

async function main(): Promise<void> {
  const [id = 'aged', host = '127.0.0.1', port = '0', options = '{}'] = process.argv.slice(2);
  const server = await startEchoServer({ id, host, port: Number(port), serverOptions: JSON.parse(options) as object });
  const stop = (): void => {
    server.forceStop();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.port })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`options-backend: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
