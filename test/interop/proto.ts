/**
 * The gRPC interop test services (`grpc.testing.TestService`, `grpc.testing.UnimplementedService`) loaded
 * from `test/interop/proto` with proto-loader, for the interop server and client.
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = path.resolve(__dirname, 'proto');

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
});
const testing = (grpc.loadPackageDefinition(definition) as unknown as {
  grpc: { testing: { TestService: grpc.ServiceClientConstructor; UnimplementedService: grpc.ServiceClientConstructor } };
}).grpc.testing;

/** `grpc.testing.TestService`: its client constructor; `.service` is the definition a server adds. */
export const TestService = testing.TestService;
/** `grpc.testing.UnimplementedService`: declared for the client only, never served. */
export const UnimplementedService = testing.UnimplementedService;

/** `grpc.testing.Payload` as the peers see it (`defaults: true` fills every field on receipt). */
export interface Payload {
  type?: string;
  body?: Buffer;
}

/** `grpc.testing.EchoStatus`: the status the server is asked to end the call with. */
export interface EchoStatus {
  code: number;
  message: string;
}

/** `grpc.testing.ResponseParameters`. */
export interface ResponseParameters {
  size: number;
  interval_us?: number;
}

/** `grpc.testing.SimpleRequest` (the fields the suite uses). */
export interface SimpleRequest {
  response_size?: number;
  payload?: Payload | null;
  response_status?: EchoStatus | null;
}

/** `grpc.testing.StreamingOutputCallRequest` (the fields the suite uses). */
export interface StreamingOutputCallRequest {
  response_parameters?: ResponseParameters[];
  payload?: Payload | null;
  response_status?: EchoStatus | null;
}

/** A message that carries a payload: `SimpleResponse`, `StreamingOutputCallResponse`, `StreamingInputCallRequest`. */
export interface WithPayload {
  payload?: Payload | null;
}

/** `grpc.testing.StreamingInputCallResponse`. */
export interface StreamingInputCallResponse {
  aggregated_payload_size: number;
}

/** Metadata keys the server echoes (interop "Echo Metadata"). */
export const ECHO_INITIAL_KEY = 'x-grpc-test-echo-initial';
export const ECHO_TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';
