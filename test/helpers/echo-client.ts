/**
 * Echo clients and promise wrappers for integration tests. Every helper takes the client as its first
 * argument, so the same helpers work on a plain grpc-js channel and on a switchyard channel
 * (`makeEchoClient(target, creds, { channelOverride })`).
 */
import * as grpc from '@grpc/grpc-js';
import { EchoClient, type EchoReply, type EchoRequest } from '../../examples/backend/echo-proto';

export type { EchoClient, EchoReply, EchoRequest } from '../../examples/backend/echo-proto';

/** Per-call options of the helpers. */
export interface EchoCallOptions {
  /** Request metadata; a plain object is converted (one value per key). */
  metadata?: grpc.Metadata | Record<string, string>;
  /** Relative timeout in ms from when the helper starts the call; converted to an absolute deadline. */
  timeoutMs?: number;
  /** Absolute deadline (a Date or ms since the epoch). Wins over `timeoutMs`. */
  deadline?: grpc.Deadline;
  /** Any other grpc-js call options (`waitForReady`, `parent`, `propagate_flags`, `credentials` …). */
  callOptions?: grpc.CallOptions;
  /** Called with the call object right after it starts, e.g. to cancel it. */
  onCall?: (call: grpc.Call) => void;
}

/** Everything a unary call produced, failed or not. */
export interface UnaryOutcome {
  /** The reply, when the call succeeded. */
  reply?: EchoReply;
  /** The error, when it failed. */
  error?: grpc.ServiceError;
  /** The final status with its trailers (`status.metadata`). */
  status: grpc.StatusObject;
  /** Response headers, when the server sent any before the status. */
  headers?: grpc.Metadata;
}

/** A streaming call's error, with the replies received before it. */
export type StreamError = grpc.ServiceError & { replies: EchoReply[] };

/**
 * Creates an echo client (the proto-loader generated `switchyard.demo.Echo` client).
 * @param target a grpc-js target, e.g. `127.0.0.1:50051` or `ipv4:127.0.0.1:1,127.0.0.1:2`.
 * @param creds channel credentials; default insecure.
 * @param options grpc-js client options, e.g. `{ channelOverride }` for a switchyard channel.
 */
export function makeEchoClient(
  target: string,
  creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options?: grpc.ClientOptions,
): EchoClient {
  return new EchoClient(target, creds, options);
}

function metadataOf(options: EchoCallOptions | undefined): grpc.Metadata {
  const m = options?.metadata;
  if (m instanceof grpc.Metadata) return m;
  const out = new grpc.Metadata();
  if (m !== undefined) for (const [key, value] of Object.entries(m)) out.set(key, value);
  return out;
}

function callOptionsOf(options: EchoCallOptions | undefined): grpc.CallOptions {
  const out: grpc.CallOptions = { ...options?.callOptions };
  if (options?.deadline !== undefined) out.deadline = options.deadline;
  else if (options?.timeoutMs !== undefined) out.deadline = Date.now() + options.timeoutMs;
  return out;
}

function streamError(error: unknown, replies: EchoReply[]): StreamError {
  return Object.assign(error as grpc.ServiceError, { replies });
}

/**
 * One unary call.
 * @returns the reply.
 * @throws grpc.ServiceError (rejects) with the call's status code, details and trailers.
 */
export function unary(client: EchoClient, request: EchoRequest, options?: EchoCallOptions): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const call = client.Unary(request, metadataOf(options), callOptionsOf(options), (error, reply) =>
      error ? reject(error) : resolve(reply!),
    );
    options?.onCall?.(call);
  });
}

/** One unary call that never rejects: resolves with the reply or error, the status and the headers. */
export function unaryOutcome(client: EchoClient, request: EchoRequest, options?: EchoCallOptions): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let result: { reply?: EchoReply; error?: grpc.ServiceError } | undefined;
    let status: grpc.StatusObject | undefined;
    const settle = (): void => {
      if (result !== undefined && status !== undefined) resolve({ ...result, status, headers });
    };
    const call = client.Unary(request, metadataOf(options), callOptionsOf(options), (error, reply) => {
      result = error ? { error } : { reply: reply! };
      settle();
    });
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      settle();
    });
    options?.onCall?.(call);
  });
}

/**
 * A client-streaming call: writes `requests`, half-closes, waits for the single reply.
 * @throws grpc.ServiceError (rejects) on a non-OK status.
 */
export function clientStream(
  client: EchoClient,
  requests: readonly EchoRequest[],
  options?: EchoCallOptions,
): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    const call = client.ClientStream(metadataOf(options), callOptionsOf(options), (error, reply) =>
      error ? reject(error) : resolve(reply!),
    );
    options?.onCall?.(call);
    for (const request of requests) call.write(request);
    call.end();
  });
}

/**
 * A server-streaming call.
 * @returns every reply, in order.
 * @throws StreamError (rejects) on a non-OK status, carrying the replies received before it.
 */
export function serverStream(client: EchoClient, request: EchoRequest, options?: EchoCallOptions): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    const call = client.ServerStream(request, metadataOf(options), callOptionsOf(options));
    options?.onCall?.(call);
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', (error) => reject(streamError(error, replies)));
    call.on('end', () => resolve(replies));
  });
}

/**
 * A bidi call: writes every request, half-closes, collects the replies (one per request).
 * @returns every reply, in order.
 * @throws StreamError (rejects) on a non-OK status, carrying the replies received before it.
 */
export function bidi(client: EchoClient, requests: readonly EchoRequest[], options?: EchoCallOptions): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    const call = client.Bidi(metadataOf(options), callOptionsOf(options));
    options?.onCall?.(call);
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', (error) => reject(streamError(error, replies)));
    call.on('end', () => resolve(replies));
    for (const request of requests) call.write(request);
    call.end();
  });
}
