/**
 * The soak's backend child process: the echo service (`examples/backend/echo-service.ts`) plus a ledger
 * of every unary attempt its handler saw, as (call id, attempt number) pairs — the call id from the
 * `x-call` request header, the attempt number from `grpc-previous-rpc-attempts` (gRFC A6). The parent
 * collects the ledger, so it can check attempt by attempt what the backends really executed.
 *
 *   node --import tsx test/soak/soak-backend.ts <id> <host> <port>
 *
 * Prints `{"ready":true,"port":N}` once listening. IPC requests (see {@link SoakRequest}):
 * - `drain`: reply with the ledger entries since the last reply and the counters;
 * - `crash`: the same reply, then block the event loop until the parent's SIGKILL, so the reply is
 *   exactly what was executed (a crash that loses no bookkeeping);
 * - SIGTERM: graceful shutdown (GOAWAY, running calls finish), then a final `drain` reply, then exit.
 * Exits when the parent disconnects.
 */
import * as grpc from '@grpc/grpc-js';
import { echoServiceDefinition } from '../../examples/backend/echo-proto';
import { createEchoService } from '../../examples/backend/echo-service';
import { hostPort } from '../../examples/backend/echo-server';

/** A request from the parent. */
export type SoakRequest = { type: 'drain' | 'crash'; seq: number };

/** A reply to the parent: ledger entries since the previous reply, flattened as [id, attempt, id, attempt, ...]. */
export interface SoakReply {
  type: 'ledger';
  /** The request's seq; -1 for the final reply after SIGTERM. */
  seq: number;
  entries: number[];
  /** Unary handler invocations since start (the echo service's own counter). */
  unaryCalls: number;
  /** Present on the last reply before the process exits. */
  final: boolean;
}

function send(reply: SoakReply, then?: () => void): void {
  process.send?.(reply, undefined, undefined, () => then?.());
}

async function main(): Promise<void> {
  const [id = 'soak', host = '127.0.0.1', port = '0'] = process.argv.slice(2);
  const service = createEchoService({ id });
  let entries: number[] = [];
  const unary = service.implementation.Unary as grpc.handleUnaryCall<unknown, unknown>;
  const implementation: grpc.UntypedServiceImplementation = {
    ...service.implementation,
    Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const callId = Number(call.metadata.get('x-call')[0] ?? -1);
      const attempt = Number(call.metadata.get('grpc-previous-rpc-attempts')[0] ?? 0);
      entries.push(callId, attempt);
      unary(call, callback);
    },
  };
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, implementation);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, Number(port)), grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p)));
  });

  const reply = (seq: number, final: boolean): SoakReply => {
    const out = entries;
    entries = [];
    return { type: 'ledger', seq, entries: out, unaryCalls: service.stats().methods.Unary.calls, final };
  };
  process.on('message', (message: SoakRequest) => {
    if (message.type === 'drain') send(reply(message.seq, false));
    else if (message.type === 'crash') {
      send(reply(message.seq, true), () => {
        // Nothing more is executed or counted: the parent's SIGKILL lands while we wait.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
        process.exit(137);
      });
    }
  });
  process.on('SIGTERM', () => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      send(reply(-1, true), () => process.exit(0));
    };
    // Soak requests never hang, but a graceful stop must end even if one did.
    setTimeout(() => {
      server.forceShutdown();
      finish();
    }, 5_000).unref();
    server.tryShutdown(finish);
  });
  process.on('disconnect', () => {
    server.forceShutdown();
    process.exit(0);
  });
  process.stdout.write(`${JSON.stringify({ ready: true, port: bound })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`soak-backend: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
