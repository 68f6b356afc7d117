/**
 * The gRPC interop test cases (grpc/grpc `doc/interop-test-descriptions.md`), written from the case
 * descriptions for switchyard's interop suite. Each case throws an `Error` naming the first assertion
 * that does not hold; it resolves when every call it made has ended.
 */
import * as grpc from '@grpc/grpc-js';
import { clientStreaming, streaming, unary, type Outcome } from './calls';
import {
  ECHO_INITIAL_KEY, ECHO_TRAILING_KEY, type StreamingInputCallResponse, type StreamingOutputCallRequest, type WithPayload,
} from './proto';

/** What a case runs against. */
export interface CaseContext {
  /** A `grpc.testing.TestService` client on the channel under test. */
  readonly client: grpc.Client;
  /** A `grpc.testing.UnimplementedService` client on the same channel. */
  readonly unimplemented: grpc.Client;
  /** channel_soak: a TestService client on a new channel, and how to close both. */
  newClient(): { client: grpc.Client; close(): void };
  readonly soak: SoakOptions;
}

/** The experimental soak flags of the interop client (`--soak_*`). */
export interface SoakOptions {
  /** Calls to make. */
  readonly iterations: number;
  /** Failed iterations tolerated (an error, or slower than `maxLatencyMs`). */
  readonly maxFailures: number;
  /** An iteration slower than this fails. */
  readonly maxLatencyMs: number;
  /** The whole case must end within this. */
  readonly overallTimeoutMs: number;
}

const LARGE_REQUEST = 271_828;
const LARGE_RESPONSE = 314_159;
const STREAM_REQUESTS = [27_182, 8, 1_828, 45_904];
const STREAM_RESPONSES = [31_415, 9, 2_653, 58_979];
const ECHO_INITIAL_VALUE = 'test_initial_metadata_value';
const ECHO_TRAILING_VALUE = Buffer.from([0xab, 0xab, 0xab]);
const TEST_STATUS = { code: 2, message: 'test status message' };
const SPECIAL_STATUS_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n';

const zeros = (size: number) => ({ type: 'COMPRESSABLE', body: Buffer.alloc(size) });

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

function checkStatus(outcome: Outcome<unknown>, code: grpc.status, step: string): void {
  const { status } = outcome;
  check(status.code === code,
    `${step}: expected status ${grpc.status[code]}, got ${grpc.status[status.code] ?? status.code} (${JSON.stringify(status.details)})`);
}

/** The response payload bodies are exactly `sizes` (in order) and all zeros. */
function checkBodies(responses: readonly WithPayload[], sizes: readonly number[], step: string): void {
  const got = responses.map((r) => r.payload?.body?.length ?? 0);
  check(got.length === sizes.length && got.every((size, i) => size === sizes[i]),
    `${step}: expected response bodies of ${JSON.stringify(sizes)} bytes, got ${JSON.stringify(got)}`);
  for (const response of responses) check(response.payload!.body!.every((b) => b === 0), `${step}: response body is not all zeros`);
}

async function largeUnary(client: grpc.Client, step = 'large_unary'): Promise<void> {
  const outcome = await unary<WithPayload>(client, 'UnaryCall', { response_size: LARGE_RESPONSE, payload: zeros(LARGE_REQUEST) });
  checkStatus(outcome, grpc.status.OK, step);
  checkBodies(outcome.responses, [LARGE_RESPONSE], step);
}

function echoMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE);
  metadata.set(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE);
  return metadata;
}

function checkEchoedMetadata(outcome: Outcome<unknown>, step: string): void {
  const initial = outcome.headers?.get(ECHO_INITIAL_KEY) ?? [];
  check(initial.length === 1 && initial[0] === ECHO_INITIAL_VALUE,
    `${step}: initial metadata ${ECHO_INITIAL_KEY} = ${JSON.stringify(initial)}, expected "${ECHO_INITIAL_VALUE}"`);
  const trailing = outcome.status.metadata.get(ECHO_TRAILING_KEY);
  check(trailing.length === 1 && Buffer.isBuffer(trailing[0]) && trailing[0].equals(ECHO_TRAILING_VALUE),
    `${step}: trailing metadata ${ECHO_TRAILING_KEY} = ${JSON.stringify(trailing)}, expected 0xababab`);
}

/** Sends `request`, then half-closes: a bidi call with exactly one request. */
function fullDuplexOnce(client: grpc.Client, request: StreamingOutputCallRequest, metadata?: grpc.Metadata) {
  return streaming<WithPayload>(client, 'FullDuplexCall', undefined, (call, response) => {
    if (response === undefined) {
      call.write(request);
      call.end();
    }
  }, { metadata });
}

/** Every case by its interop name. */
export const CASES: Record<string, (context: CaseContext) => Promise<void>> = {
  async empty_unary({ client }) {
    const outcome = await unary(client, 'EmptyCall', {});
    checkStatus(outcome, grpc.status.OK, 'EmptyCall');
    check(outcome.responses.length === 1 && outcome.responses[0] !== null, 'EmptyCall: no response');
  },

  async large_unary({ client }) {
    await largeUnary(client);
  },

  async client_streaming({ client }) {
    const outcome = await clientStreaming<StreamingInputCallResponse>(client, 'StreamingInputCall', (call) => {
      for (const size of STREAM_REQUESTS) call.write({ payload: zeros(size) });
      call.end();
    });
    checkStatus(outcome, grpc.status.OK, 'StreamingInputCall');
    const size = outcome.responses[0]?.aggregated_payload_size;
    check(size === 74_922, `StreamingInputCall: aggregated_payload_size ${size}, expected 74922`);
  },

  async server_streaming({ client }) {
    const request = { response_parameters: STREAM_RESPONSES.map((size) => ({ size })) };
    const outcome = await streaming<WithPayload>(client, 'StreamingOutputCall', request, () => undefined);
    checkStatus(outcome, grpc.status.OK, 'StreamingOutputCall');
    checkBodies(outcome.responses, STREAM_RESPONSES, 'StreamingOutputCall');
  },

  async ping_pong({ client }) {
    // One request, the next only after its reply; half-close after the fourth reply.
    let sent = 0;
    const outcome = await streaming<WithPayload>(client, 'FullDuplexCall', undefined, (call) => {
      if (sent === STREAM_REQUESTS.length) {
        call.end();
        return;
      }
      call.write({ response_parameters: [{ size: STREAM_RESPONSES[sent]! }], payload: zeros(STREAM_REQUESTS[sent]!) });
      sent++;
    });
    checkStatus(outcome, grpc.status.OK, 'FullDuplexCall');
    checkBodies(outcome.responses, STREAM_RESPONSES, 'FullDuplexCall');
  },

  async empty_stream({ client }) {
    const outcome = await streaming<WithPayload>(client, 'FullDuplexCall', undefined, (call, response) => {
      if (response === undefined) call.end();
    });
    checkStatus(outcome, grpc.status.OK, 'FullDuplexCall');
    check(outcome.responses.length === 0, `FullDuplexCall: ${outcome.responses.length} responses, expected none`);
  },

  async cancel_after_begin({ client }) {
    const outcome = await clientStreaming(client, 'StreamingInputCall', (call) => call.cancel());
    checkStatus(outcome, grpc.status.CANCELLED, 'StreamingInputCall');
  },

  async cancel_after_first_response({ client }) {
    const outcome = await streaming<WithPayload>(client, 'FullDuplexCall', undefined, (call, response) => {
      if (response === undefined) call.write({ response_parameters: [{ size: 31_415 }], payload: zeros(27_182) });
      else call.cancel();
    });
    checkStatus(outcome, grpc.status.CANCELLED, 'FullDuplexCall');
  },

  async timeout_on_sleeping_server({ client }) {
    const outcome = await streaming<WithPayload>(client, 'FullDuplexCall', undefined, (call, response) => {
      if (response === undefined) call.write({ payload: zeros(27_182) });
    }, { deadline: Date.now() + 1 });
    checkStatus(outcome, grpc.status.DEADLINE_EXCEEDED, 'FullDuplexCall');
  },

  async custom_metadata({ client }) {
    const unaryOutcome = await unary(client, 'UnaryCall', { response_size: LARGE_RESPONSE, payload: zeros(LARGE_REQUEST) },
      { metadata: echoMetadata() });
    checkStatus(unaryOutcome, grpc.status.OK, 'UnaryCall');
    checkEchoedMetadata(unaryOutcome, 'UnaryCall');
    const bidi = await fullDuplexOnce(client, { response_parameters: [{ size: LARGE_RESPONSE }], payload: zeros(LARGE_REQUEST) },
      echoMetadata());
    checkStatus(bidi, grpc.status.OK, 'FullDuplexCall');
    checkEchoedMetadata(bidi, 'FullDuplexCall');
  },

  async status_code_and_message({ client }) {
    for (const [step, outcome] of [
      ['UnaryCall', await unary(client, 'UnaryCall', { response_status: TEST_STATUS })],
      ['FullDuplexCall', await fullDuplexOnce(client, { response_status: TEST_STATUS })],
    ] as const) {
      checkStatus(outcome, TEST_STATUS.code, step);
      check(outcome.status.details === TEST_STATUS.message,
        `${step}: status message ${JSON.stringify(outcome.status.details)}, expected ${JSON.stringify(TEST_STATUS.message)}`);
    }
  },

  async special_status_message({ client }) {
    const outcome = await unary(client, 'UnaryCall', { response_status: { code: 2, message: SPECIAL_STATUS_MESSAGE } });
    checkStatus(outcome, grpc.status.UNKNOWN, 'UnaryCall');
    check(outcome.status.details === SPECIAL_STATUS_MESSAGE,
      `UnaryCall: status message ${JSON.stringify(outcome.status.details)}, expected ${JSON.stringify(SPECIAL_STATUS_MESSAGE)}`);
  },

  async unimplemented_method({ client }) {
    checkStatus(await unary(client, 'UnimplementedCall', {}), grpc.status.UNIMPLEMENTED, 'TestService/UnimplementedCall');
  },

  async unimplemented_service({ unimplemented }) {
    checkStatus(await unary(unimplemented, 'UnimplementedCall', {}), grpc.status.UNIMPLEMENTED, 'UnimplementedService/UnimplementedCall');
  },

  async rpc_soak(context) {
    await soak(context, async () => largeUnary(context.client));
  },

  async channel_soak(context) {
    await soak(context, async () => {
      const { client, close } = context.newClient();
      try {
        await largeUnary(client);
      } finally {
        close();
      }
    });
  },
};

/**
 * The soak cases: `iterations` sequential large_unary calls; an iteration that fails or takes longer
 * than `maxLatencyMs` counts as a failure; more than `maxFailures` failures, or a run past
 * `overallTimeoutMs`, fails the case.
 */
async function soak(context: CaseContext, iteration: () => Promise<void>): Promise<void> {
  const { iterations, maxFailures, maxLatencyMs, overallTimeoutMs } = context.soak;
  const startedAt = performance.now();
  const failures: string[] = [];
  for (let i = 0; i < iterations; i++) {
    check(performance.now() - startedAt <= overallTimeoutMs,
      `soak: overall timeout of ${overallTimeoutMs} ms passed after ${i} of ${iterations} iterations`);
    const iterationStart = performance.now();
    try {
      await iteration();
      const latency = performance.now() - iterationStart;
      if (latency > maxLatencyMs) failures.push(`iteration ${i}: ${Math.round(latency)} ms > ${maxLatencyMs} ms`);
    } catch (error) {
      failures.push(`iteration ${i}: ${(error as Error).message}`);
    }
  }
  check(failures.length <= maxFailures,
    `soak: ${failures.length} of ${iterations} iterations failed (max ${maxFailures}): ${failures.slice(0, 3).join('; ')}`);
}
