/**
 * Promise wrappers over grpc-js client calls for the interop cases: each resolves once the call's final
 * status arrived, with everything the call produced, and never rejects for a non-OK status.
 */
import * as grpc from '@grpc/grpc-js';

/** What a call produced. */
export interface Outcome<Response> {
  readonly status: grpc.StatusObject;
  /** Response headers, when any arrived. */
  readonly headers: grpc.Metadata | undefined;
  /** Responses in arrival order (one at most for a unary or client-streaming call). */
  readonly responses: Response[];
}

/** Per-call options. */
export interface CallOptions {
  readonly metadata?: grpc.Metadata;
  readonly deadline?: grpc.Deadline;
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => grpc.Call>;

function settle<Response>(call: grpc.Call, responses: Response[]): Promise<Outcome<Response>> {
  let headers: grpc.Metadata | undefined;
  call.on('metadata', (metadata: grpc.Metadata) => {
    headers = metadata;
  });
  return new Promise((resolve) => {
    call.on('status', (status: grpc.StatusObject) => {
      // grpc-js emits a unary call's status before its callback; read the response on the next tick.
      setImmediate(() => resolve({ status, headers, responses }));
    });
  });
}

/** A unary call (also a client-streaming one's shape: `write` the messages on the returned call). */
export function unary<Response>(
  client: grpc.Client, method: string, request: unknown, options: CallOptions = {},
): Promise<Outcome<Response>> {
  const responses: Response[] = [];
  const call = (client as AnyClient)[method]!(request, options.metadata ?? new grpc.Metadata(), callOptions(options),
    (_error: grpc.ServiceError | null, response?: Response) => {
      if (response !== undefined) responses.push(response);
    });
  return settle(call, responses);
}

/** A client-streaming call: `send` writes the requests; the promise resolves at the status. */
export function clientStreaming<Response>(
  client: grpc.Client, method: string, send: (call: grpc.ClientWritableStream<unknown>) => void, options: CallOptions = {},
): Promise<Outcome<Response>> {
  const responses: Response[] = [];
  const call = (client as AnyClient)[method]!(options.metadata ?? new grpc.Metadata(), callOptions(options),
    (_error: grpc.ServiceError | null, response?: Response) => {
      if (response !== undefined) responses.push(response);
    }) as grpc.ClientWritableStream<unknown>;
  call.on('error', () => undefined);
  const outcome = settle(call, responses);
  send(call);
  return outcome;
}

/** A server-streaming or bidi call; `drive` writes and reacts to each response (bidi), or is empty. */
export function streaming<Response>(
  client: grpc.Client,
  method: string,
  request: unknown | undefined,
  drive: (call: grpc.ClientDuplexStream<unknown, Response>, response: Response | undefined) => void,
  options: CallOptions = {},
): Promise<Outcome<Response>> {
  const responses: Response[] = [];
  const metadata = options.metadata ?? new grpc.Metadata();
  const call = (request === undefined
    ? (client as AnyClient)[method]!(metadata, callOptions(options))
    : (client as AnyClient)[method]!(request, metadata, callOptions(options))) as grpc.ClientDuplexStream<unknown, Response>;
  call.on('error', () => undefined);
  call.on('data', (response: Response) => {
    responses.push(response);
    drive(call, response);
  });
  const outcome = settle(call, responses);
  drive(call, undefined);
  return outcome;
}

function callOptions(options: CallOptions): grpc.CallOptions {
  return options.deadline === undefined ? {} : { deadline: options.deadline };
}
