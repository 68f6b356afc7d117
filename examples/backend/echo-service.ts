import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { CallMetricsRecorder, LoadReporter } from './load-reporter';
import {
  ECHO_METHODS,
  type EchoMethod,
  type EchoReply,
  type EchoRequest,
  type ReceivedEchoRequest,
} from './echo-proto';

/**
 * Server-wide misbehaviour, applied on top of what each request asks for. Used by benchmarks and the
 * demo to simulate a flaky or slow backend without changing the client's requests.
 */
export interface EchoBehaviour {
  /** Fraction in [0, 1] of calls failed with {@link EchoBehaviour.failCode}. Default 0. */
  failRate?: number;
  /** gRPC status code (1..16) for `failRate` failures. Default 14 (UNAVAILABLE). */
  failCode?: number;
  /** Extra delay in milliseconds before answering, for a `delayFraction` of the calls. Default 0. */
  delayMs?: number;
  /** Fraction in [0, 1] of calls that get `delayMs`. Default 1 (every call). */
  delayFraction?: number;
}

/** Counters for one method (or for all of them). */
export interface MethodStats {
  /** Calls that reached the handler. */
  calls: number;
  /** Calls the server ended with a non-OK status (request-driven or server-wide failure). */
  errors: number;
  /** Calls that ended (client cancel, deadline, connection loss) before the server answered. */
  cancelled: number;
}

/** A JSON-serialisable snapshot of an echo server's counters. */
export interface EchoStats {
  /** The backend id. */
  id: string;
  /** Sum over all methods. */
  total: MethodStats;
  /** Per method. */
  methods: Record<EchoMethod, MethodStats>;
}

/** Options of {@link createEchoService}. */
export interface EchoServiceOptions {
  /** Backend id, returned in every `EchoReply.backend`. */
  id: string;
  /** Initial server-wide behaviour. Default: none. */
  behaviour?: EchoBehaviour;
  /** Uniform random numbers in [0, 1) deciding `failRate` / `delayFraction`. Default `Math.random`. */
  random?: () => number;
  /** ORCA load reports of unary and client-streaming calls (gRFC A51); none by default. */
  loadReporter?: LoadReporter;
}

/** An echo service implementation plus its counters and controls. */
export interface EchoService {
  /** The backend id. */
  readonly id: string;
  /** The handlers, for `server.addService(echoServiceDefinition, implementation)`. */
  readonly implementation: grpc.UntypedServiceImplementation;
  /** A snapshot of the counters (a fresh object each time). */
  stats(): EchoStats;
  /** Zeroes every counter. */
  resetStats(): void;
  /**
   * Replaces the server-wide behaviour for calls that arrive from now on.
   * @throws RangeError when a field is out of range.
   */
  setBehaviour(behaviour: EchoBehaviour): void;
  /** Clears every pending delay timer; calls waiting on one stay unanswered (use before a forced shutdown). */
  cancelTimers(): void;
}

/** Header carrying the attempt number of a retried call (gRFC A6). */
const PREVIOUS_ATTEMPTS_HEADER = 'grpc-previous-rpc-attempts';
/** Trailer carrying the server's retry pushback (gRFC A6). */
const PUSHBACK_TRAILER = 'grpc-retry-pushback-ms';

/**
 * What the four server call objects have in common (grpc-js does not export their base type): they are
 * event emitters (`'cancelled'`) with the incoming metadata, deadline and authority.
 */
type ServerCall = Pick<grpc.ServerUnaryCall<ReceivedEchoRequest, EchoReply>, 'getDeadline' | 'getHost' | 'metadata'> &
  EventEmitter;

/** What the server saw when a call arrived; copied into each reply. */
interface Arrival {
  attempt: number;
  deadlineRemainingMs: number;
  authority: string;
  metadata: Record<string, string>;
}

/** What the server will do with one request. */
interface Plan {
  hang: boolean;
  delayMs: number;
  failure: grpc.ServerErrorResponse | null;
  failAfterHeaders: boolean;
}

/**
 * Validates a server-wide behaviour.
 * @throws RangeError naming the field when a value is out of range.
 */
export function validateBehaviour(behaviour: EchoBehaviour): Required<EchoBehaviour> {
  const b = {
    failRate: behaviour.failRate ?? 0,
    failCode: behaviour.failCode ?? grpc.status.UNAVAILABLE,
    delayMs: behaviour.delayMs ?? 0,
    delayFraction: behaviour.delayFraction ?? 1,
  };
  if (!(b.failRate >= 0 && b.failRate <= 1)) throw new RangeError(`failRate must be in [0, 1], got ${b.failRate}`);
  if (!(Number.isInteger(b.failCode) && b.failCode >= 1 && b.failCode <= 16)) {
    throw new RangeError(`failCode must be an integer in [1, 16], got ${b.failCode}`);
  }
  if (!(b.delayMs >= 0 && Number.isFinite(b.delayMs))) throw new RangeError(`delayMs must be >= 0, got ${b.delayMs}`);
  if (!(b.delayFraction >= 0 && b.delayFraction <= 1)) {
    throw new RangeError(`delayFraction must be in [0, 1], got ${b.delayFraction}`);
  }
  return b;
}

function emptyMethodStats(): MethodStats {
  return { calls: 0, errors: 0, cancelled: 0 };
}

function attemptOf(metadata: grpc.Metadata): number {
  const value = metadata.get(PREVIOUS_ATTEMPTS_HEADER)[0];
  const n = value === undefined ? 0 : Number.parseInt(String(value), 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function echoedHeaders(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (key.startsWith('x-')) out[key] = typeof value === 'string' ? value : value.toString('base64');
  }
  return out;
}

function arrivalOf(call: ServerCall): Arrival {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return {
    attempt: attemptOf(call.metadata),
    deadlineRemainingMs: Number.isFinite(deadlineMs) ? Math.max(0, Math.round(deadlineMs - Date.now())) : -1,
    authority: call.getHost(),
    metadata: echoedHeaders(call.metadata),
  };
}

function replyOf(id: string, message: string, arrival: Arrival): EchoReply {
  return {
    message,
    backend: id,
    attempt: arrival.attempt,
    deadline_remaining_ms: arrival.deadlineRemainingMs,
    authority: arrival.authority,
    metadata: arrival.metadata,
  };
}

/**
 * Creates the echo service: a `switchyard.demo.Echo` implementation whose behaviour each request controls
 * (see `examples/proto/echo.proto`) and that counts what it served. Shared by the in-process test server
 * and the child-process backend.
 *
 * Request controls: `fail_code` (with `fail_attempts`, `pushback_ms`, `fail_after_headers`), `delay_ms`,
 * `hang`, `response_count`. Server-wide controls: {@link EchoBehaviour}. A request's own `fail_code` wins
 * over a server-wide failure; delays add up.
 *
 * @throws RangeError when `options.behaviour` is out of range.
 */
export function createEchoService(options: EchoServiceOptions): EchoService {
  const id = options.id;
  const random = options.random ?? Math.random;
  let behaviour = validateBehaviour(options.behaviour ?? {});
  let counters = newCounters();
  const timers = new Set<NodeJS.Timeout>();

  function newCounters(): Record<EchoMethod, MethodStats> {
    return { Unary: emptyMethodStats(), ClientStream: emptyMethodStats(), ServerStream: emptyMethodStats(), Bidi: emptyMethodStats() };
  }

  function planOf(request: ReceivedEchoRequest, attempt: number): Plan {
    let failure: grpc.ServerErrorResponse | null = null;
    if (request.fail_code !== 0 && (request.fail_attempts === 0 || attempt < request.fail_attempts)) {
      const trailers = new grpc.Metadata();
      if (request.pushback_ms !== '') trailers.set(PUSHBACK_TRAILER, request.pushback_ms);
      failure = {
        name: 'EchoFailure',
        message: `requested failure (attempt ${attempt})`,
        code: request.fail_code,
        details: `${id}: requested failure (attempt ${attempt})`,
        metadata: trailers,
      };
    } else if (behaviour.failRate > 0 && random() < behaviour.failRate) {
      failure = {
        name: 'EchoFailure',
        message: 'injected failure',
        code: behaviour.failCode,
        details: `${id}: injected failure`,
      };
    }
    let delayMs = request.delay_ms;
    if (behaviour.delayMs > 0 && (behaviour.delayFraction >= 1 || random() < behaviour.delayFraction)) {
      delayMs += behaviour.delayMs;
    }
    return { hang: request.hang, delayMs, failure, failAfterHeaders: request.fail_after_headers };
  }

  /**
   * Per-call bookkeeping. `after(ms, fn)` runs `fn` after `ms` unless the call ends first; `finish()` marks
   * the call answered, because grpc-js emits 'cancelled' on every stream close, answered or not, and only
   * an unanswered call counts as cancelled.
   */
  /** Answer a call that has one response (unary, client streaming) as its plan says. */
  function answerOnce(
    call: ServerCall & { sendMetadata(metadata: grpc.Metadata): void; getMetricsRecorder(): CallMetricsRecorder },
    stats: MethodStats,
    t: ReturnType<typeof track>,
    plan: Plan,
    callback: grpc.sendUnaryData<EchoReply>,
    reply: () => EchoReply,
  ): void {
    if (plan.hang) return;
    t.after(plan.delayMs, () => {
      t.finish();
      options.loadReporter?.callEnded(call.getMetricsRecorder(), Date.now() - t.startedAt, plan.failure !== null);
      if (plan.failure !== null) {
        stats.errors++;
        if (plan.failAfterHeaders) call.sendMetadata(new grpc.Metadata());
        callback(plan.failure);
      } else {
        callback(null, reply());
      }
    });
  }

  function track(call: ServerCall, stats: MethodStats): { readonly startedAt: number; finish(): void; after(ms: number, fn: () => void): void } {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    call.on('cancelled', () => {
      if (timer !== undefined) {
        clearTimeout(timer);
        timers.delete(timer);
        timer = undefined;
      }
      if (!done) {
        done = true;
        stats.cancelled++;
      }
    });
    return {
      startedAt: Date.now(),
      finish() {
        done = true;
      },
      after(ms, fn) {
        if (done) return;
        if (ms <= 0) return fn();
        const t = setTimeout(() => {
          timers.delete(t);
          timer = undefined;
          if (!done) fn();
        }, ms);
        timer = t;
        timers.add(t);
      },
    };
  }

  const implementation: grpc.UntypedServiceImplementation = {
    Unary(call: grpc.ServerUnaryCall<ReceivedEchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      const stats = counters.Unary;
      stats.calls++;
      const arrival = arrivalOf(call);
      const plan = planOf(call.request, arrival.attempt);
      const t = track(call, stats);
      answerOnce(call, stats, t, plan, callback, () => replyOf(id, call.request.message, arrival));
    },

    ClientStream(
      call: grpc.ServerReadableStream<ReceivedEchoRequest, EchoReply>,
      callback: grpc.sendUnaryData<EchoReply>,
    ) {
      const stats = counters.ClientStream;
      stats.calls++;
      const arrival = arrivalOf(call);
      const t = track(call, stats);
      const messages: string[] = [];
      // The first message's controls apply to the whole call.
      let plan: Plan | undefined;
      call.on('data', (request: ReceivedEchoRequest) => {
        plan ??= planOf(request, arrival.attempt);
        messages.push(request.message);
      });
      call.on('error', () => t.finish());
      call.on('end', () => {
        const p = plan ?? planOf(emptyRequest(), arrival.attempt);
        answerOnce(call, stats, t, p, callback, () => replyOf(id, messages.join(','), arrival));
      });
    },

    ServerStream(call: grpc.ServerWritableStream<ReceivedEchoRequest, EchoReply>) {
      const stats = counters.ServerStream;
      stats.calls++;
      const arrival = arrivalOf(call);
      const request = call.request;
      const plan = planOf(request, arrival.attempt);
      const t = track(call, stats);
      if (plan.hang) return;
      t.after(plan.delayMs, () => {
        t.finish();
        if (plan.failure !== null) {
          stats.errors++;
          // One reply first, so the client has received headers and a message: the call is committed.
          if (plan.failAfterHeaders) call.write(replyOf(id, request.message, arrival));
          call.emit('error', plan.failure);
          return;
        }
        const count = Math.max(1, request.response_count);
        for (let i = 0; i < count; i++) call.write(replyOf(id, request.message, arrival));
        call.end();
      });
    },

    Bidi(call: grpc.ServerDuplexStream<ReceivedEchoRequest, EchoReply>) {
      const stats = counters.Bidi;
      stats.calls++;
      const arrival = arrivalOf(call);
      const t = track(call, stats);
      // Replies keep request order even when delays differ: each waits for the previous one.
      let queue: Promise<boolean> = Promise.resolve(true);
      let failed = false;
      call.on('data', (request: ReceivedEchoRequest) => {
        const plan = planOf(request, arrival.attempt);
        queue = queue.then(
          (go) =>
            new Promise<boolean>((resolve) => {
              if (!go || plan.hang) return resolve(false);
              t.after(plan.delayMs, () => {
                if (plan.failure !== null) {
                  if (!failed) {
                    failed = true;
                    t.finish();
                    stats.errors++;
                    if (plan.failAfterHeaders) call.sendMetadata(new grpc.Metadata());
                    call.emit('error', plan.failure);
                  }
                  return resolve(false);
                }
                call.write(replyOf(id, request.message, arrival));
                resolve(true);
              });
            }),
        );
      });
      call.on('error', () => t.finish());
      call.on('end', () => {
        void queue.then((go) => {
          if (!go) return;
          t.finish();
          call.end();
        });
      });
    },
  };

  return {
    id,
    implementation,
    stats() {
      const methods = {} as Record<EchoMethod, MethodStats>;
      const total = emptyMethodStats();
      for (const m of ECHO_METHODS) {
        const s = counters[m];
        methods[m] = { ...s };
        total.calls += s.calls;
        total.errors += s.errors;
        total.cancelled += s.cancelled;
      }
      return { id, total, methods };
    },
    resetStats() {
      counters = newCounters();
    },
    setBehaviour(next) {
      behaviour = validateBehaviour(next);
    },
    cancelTimers() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

function emptyRequest(): ReceivedEchoRequest {
  return {
    message: '',
    fail_code: 0,
    fail_after_headers: false,
    delay_ms: 0,
    pushback_ms: '',
    response_count: 0,
    fail_attempts: 0,
    hang: false,
  } satisfies Required<EchoRequest>;
}
