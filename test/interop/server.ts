/**
 * The gRPC interop test server (grpc/grpc `doc/interop-test-descriptions.md`, section "Server"), on
 * grpc-js, for `npm run test:interop`. It implements EmptyCall, UnaryCall, StreamingOutputCall,
 * StreamingInputCall and FullDuplexCall with the server features the suite's cases need: Echo Status,
 * Echo Metadata and `ResponseParameters.interval_us`. UnimplementedCall is left out on purpose.
 *
 *   tsx test/interop/server.ts --port=0 [--use_tls=true --cert_file=server.pem --key_file=server.key]
 *
 * Prints one JSON line `{"port": <bound port>}` on stdout once it listens on 127.0.0.1, and shuts down
 * when stdin closes (its parent is gone) or on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  ECHO_INITIAL_KEY, ECHO_TRAILING_KEY, TestService, type EchoStatus, type SimpleRequest, type StreamingOutputCallRequest,
  type WithPayload,
} from './proto';
import { parseFlags } from './flags';

const zeros = (size: number): { payload: { type: string; body: Buffer } } => ({
  payload: { type: 'COMPRESSABLE', body: Buffer.alloc(size) },
});

/**
 * Echo Metadata: the initial key comes back in the response headers (sent at once only when there is
 * one, so that an error status otherwise goes out Trailers-Only), the `-bin` key in the trailers.
 * @returns the trailers to end the call with.
 */
function echoMetadata(call: { metadata: grpc.Metadata; sendMetadata(metadata: grpc.Metadata): void }): grpc.Metadata {
  const initial = call.metadata.get(ECHO_INITIAL_KEY);
  if (initial.length > 0) {
    const headers = new grpc.Metadata();
    for (const value of initial) headers.add(ECHO_INITIAL_KEY, value);
    call.sendMetadata(headers);
  }
  const trailing = new grpc.Metadata();
  for (const value of call.metadata.get(ECHO_TRAILING_KEY)) trailing.add(ECHO_TRAILING_KEY, value);
  return trailing;
}

/** Echo Status: a request with a non-OK `response_status` ends the call with exactly that status. */
function requestedError(status: EchoStatus | null | undefined): grpc.StatusObject | undefined {
  if (!status || status.code === 0) return undefined;
  return { code: status.code, details: status.message, metadata: new grpc.Metadata() };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes one response per `response_parameters` entry, each after its `interval_us`. */
async function writeResponses(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  request: StreamingOutputCallRequest,
): Promise<void> {
  for (const parameters of request.response_parameters ?? []) {
    if (parameters.interval_us) await sleep(parameters.interval_us / 1000);
    if (call.cancelled) return;
    await new Promise<void>((resolve) => call.write(zeros(parameters.size), () => resolve()));
  }
}

const handlers: grpc.UntypedServiceImplementation = {
  EmptyCall(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
    callback(null, {});
  },

  UnaryCall(call: grpc.ServerUnaryCall<SimpleRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
    const trailing = echoMetadata(call);
    const error = requestedError(call.request.response_status);
    if (error) {
      callback(error);
      return;
    }
    callback(null, zeros(call.request.response_size ?? 0), trailing);
  },

  StreamingOutputCall(call: grpc.ServerWritableStream<StreamingOutputCallRequest, unknown>) {
    const trailing = echoMetadata(call);
    const error = requestedError(call.request.response_status);
    if (error) {
      call.emit('error', error);
      return;
    }
    void writeResponses(call, call.request).then(() => call.end(trailing));
  },

  StreamingInputCall(call: grpc.ServerReadableStream<WithPayload, unknown>, callback: grpc.sendUnaryData<unknown>) {
    let size = 0;
    call.on('data', (request: WithPayload) => {
      size += request.payload?.body?.length ?? 0;
    });
    call.on('end', () => callback(null, { aggregated_payload_size: size }));
    call.on('error', () => undefined);
  },

  FullDuplexCall(call: grpc.ServerDuplexStream<StreamingOutputCallRequest, unknown>) {
    const trailing = echoMetadata(call);
    // Requests are answered in order: each one's responses after the previous one's.
    let chain = Promise.resolve();
    let failed = false;
    call.on('data', (request: StreamingOutputCallRequest) => {
      if (failed) return;
      const error = requestedError(request.response_status);
      if (error) {
        failed = true;
        chain = chain.then(() => void call.emit('error', error));
        return;
      }
      chain = chain.then(() => writeResponses(call, request));
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (!failed) call.end(trailing);
      });
    });
    call.on('error', () => undefined);
  },
};

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const port = Number(flags.get('port') ?? '0');
  const credentials = flags.get('use_tls') === 'true'
    ? grpc.ServerCredentials.createSsl(null, [{
      cert_chain: readFileSync(flags.get('cert_file') ?? ''),
      private_key: readFileSync(flags.get('key_file') ?? ''),
    }])
    : grpc.ServerCredentials.createInsecure();
  const server = new grpc.Server();
  server.addService(TestService.service, handlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, credentials, (error, p) => (error ? reject(error) : resolve(p))));
  process.stdout.write(`${JSON.stringify({ port: bound })}\n`);
  const stop = (): void => server.tryShutdown(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop).on('error', stop).resume();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
