/**
 * A loopback server for the echo service whose `Unary` shows what the server received and sends
 * custom response headers and trailers: for integration tests of metadata, authorities and call
 * credentials. The other methods are not implemented (UNIMPLEMENTED).
 */
import * as grpc from '@grpc/grpc-js';
import { echoServiceDefinition, type EchoReply, type ReceivedEchoRequest } from '../../examples/backend/echo-proto';

/** Response header every `Unary` reply carries: `x-probe-header: <id>`. */
export const PROBE_HEADER = 'x-probe-header';
/** Trailer every `Unary` reply carries: `x-probe-trailer: <id>`. */
export const PROBE_TRAILER = 'x-probe-trailer';

/** A running probe server. */
export interface ProbeServer {
  readonly id: string;
  readonly port: number;
  /** The request headers of each `Unary` call received, in order. */
  readonly received: grpc.Metadata[];
  /** Immediate shutdown. */
  close(): void;
}

/**
 * Start a probe server on 127.0.0.1 (ephemeral port). `Unary` replies with the request message, the
 * server id as `backend`, the `:authority` it saw, and in `metadata` every request header whose name
 * starts with `x-` plus `authorization`; it sends the header {@link PROBE_HEADER} and the trailer
 * {@link PROBE_TRAILER}, both valued `id`.
 *
 * @param credentials server credentials; default insecure.
 * @throws Error (rejects) if the port cannot be bound.
 */
export async function startProbeServer(id: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<ProbeServer> {
  const received: grpc.Metadata[] = [];
  const server = new grpc.Server();
  server.addService(echoServiceDefinition, {
    Unary(call: grpc.ServerUnaryCall<ReceivedEchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      received.push(call.metadata);
      const echoed: Record<string, string> = {};
      for (const [key, value] of Object.entries(call.metadata.getMap())) {
        if (key.startsWith('x-') || key === 'authorization') echoed[key] = String(value);
      }
      const headers = new grpc.Metadata();
      headers.set(PROBE_HEADER, id);
      call.sendMetadata(headers);
      const trailers = new grpc.Metadata();
      trailers.set(PROBE_TRAILER, id);
      callback(
        null,
        { message: call.request.message, backend: id, attempt: 0, deadline_remaining_ms: -1, authority: call.getHost(), metadata: echoed },
        trailers,
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { id, port, received, close: () => server.forceShutdown() };
}
