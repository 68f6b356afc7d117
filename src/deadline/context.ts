import { AsyncLocalStorage } from 'node:async_hooks';
import type { Deadline, UntypedServiceImplementation } from '@grpc/grpc-js';
import { systemClock, type Clock } from '../clock';
import { describeArgument } from '../arguments';
import { Cancellation, type CancelListener } from './cancellation';
import { deadlineFromGrpc, minDeadline } from './deadline';

/**
 * The deadline and cancellation that outgoing calls inherit from the code that makes them: the incoming
 * call a server handler is serving ({@link propagateDeadlines}) or an explicit scope
 * ({@link runWithDeadline}). This replaces grpc-js's per-call `parent` option.
 *
 * The channel reads it once per outgoing call (`currentCallContext()`, one `getStore()`), takes
 * `min(own deadline, ctx.deadline)`, and registers one listener with {@link addCancelListener}, removed
 * with {@link removeCancelListener} when the call ends: no allocation beyond the listener itself.
 *
 * Internal: exported for the channel, not part of the public API.
 */
export class CallContext {
  /**
   * @param deadline absolute ms since the epoch (Infinity for none), already the earliest of this scope
   *   and every enclosing one.
   * @param source where cancellation comes from; undefined if nothing can cancel this scope.
   */
  constructor(
    readonly deadline: number,
    readonly source: Cancellation | undefined,
  ) {}

  /** True once the incoming call (or an enclosing one) was cancelled by its client or its deadline. */
  get cancelled(): boolean {
    return this.source !== undefined && this.source.cancelled;
  }

  /**
   * Hot-path registration: `listener` runs once if the context is cancelled.
   * @returns false if the context is already cancelled: the listener was not added; the caller should
   *   cancel its call at once.
   */
  addCancelListener(listener: CancelListener): boolean {
    return this.source === undefined || this.source.add(listener);
  }

  /** Unregister a listener added with {@link addCancelListener} (call it when the outgoing call ends). */
  removeCancelListener(listener: CancelListener): void {
    this.source?.remove(listener);
  }

  /**
   * Convenience form: run `listener` once on cancellation — synchronously now if the context is
   * already cancelled.
   * @returns a function that unregisters the listener (allocates a closure; the channel uses
   *   {@link addCancelListener} instead).
   */
  onCancel(listener: CancelListener): () => void {
    if (this.source === undefined) return noop;
    if (!this.source.add(listener)) {
      listener();
      return noop;
    }
    const source = this.source;
    return () => source.remove(listener);
  }
}

function noop(): void {}

const storage = new AsyncLocalStorage<CallContext>();

/**
 * The context of the code running now, or undefined outside any. Internal: the channel calls it once per
 * outgoing call.
 */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/**
 * Run `fn` with an explicit deadline that calls made through switchyard channels inside it (including
 * after `await`s and in timers it starts) inherit. Nested scopes keep the **earlier** deadline, and keep
 * the cancellation of an enclosing incoming call.
 *
 * @param deadline an **absolute** deadline: a Date, or ms since the epoch (Infinity = none). For a
 *   relative timeout use {@link runWithTimeout}.
 * @param fn called synchronously; its return value (a Promise too) is returned as is.
 * @throws TypeError naming the argument when `deadline` is not a valid Date or a number (NaN is not),
 *   or `fn` is not a function; whatever `fn` throws.
 */
export function runWithDeadline<R>(deadline: Deadline, fn: () => R): R {
  const abs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof abs !== 'number' || Number.isNaN(abs)) {
    const got = deadline instanceof Date ? 'an invalid Date' : describeArgument(deadline);
    throw new TypeError(`runWithDeadline(deadline): must be a valid Date or a number of ms since the epoch (Infinity for none), got ${got}`);
  }
  checkFunction('runWithDeadline', fn);
  const outer = storage.getStore();
  const ctx = outer === undefined ? new CallContext(abs, undefined) : new CallContext(minDeadline(abs, outer.deadline), outer.source);
  return storage.run(ctx, fn);
}

/**
 * {@link runWithDeadline} with a **relative** timeout: deadline = `clock.now() + timeoutMs`.
 *
 * @param timeoutMs milliseconds from now; 0 or negative means already expired (calls fail with
 *   DEADLINE_EXCEEDED); Infinity means none.
 * @param fn called synchronously; its return value is returned as is.
 * @param clock time source, for tests. Default the system clock.
 * @throws TypeError naming the argument when `timeoutMs` is not a number (or is NaN) or `fn` is not a
 *   function; whatever `fn` throws.
 */
export function runWithTimeout<R>(timeoutMs: number, fn: () => R, clock: Clock = systemClock): R {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw new TypeError(`runWithTimeout(timeoutMs): must be a number of milliseconds, got ${describeArgument(timeoutMs)}`);
  }
  checkFunction('runWithTimeout', fn);
  return runWithDeadline(clock.now() + timeoutMs, fn);
}

function checkFunction(functionName: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${functionName}(…, fn): fn must be a function, got ${describeArgument(fn)}`);
}

/** The part of a grpc-js server call object (all four kinds) this module uses. */
interface IncomingCallLike {
  getDeadline(): Deadline;
  once(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
}

type Handler = (call: IncomingCallLike, callback?: (...args: unknown[]) => unknown) => unknown;

/**
 * Per incoming call: the context and the wiring between the grpc-js server call and the context's
 * cancellation. One object per call; its listeners are arrow-function fields bound once.
 */
class IncomingCallScope {
  readonly ctx: CallContext;
  private readonly source = new Cancellation();
  private readonly outer: Cancellation | undefined;
  private streaming = false;

  constructor(
    private readonly call: IncomingCallLike,
    outerCtx: CallContext | undefined,
  ) {
    const own = deadlineFromGrpc(call.getDeadline(), 'call.getDeadline()');
    this.ctx = new CallContext(outerCtx === undefined ? own : minDeadline(own, outerCtx.deadline), this.source);
    call.once('cancelled', this.cancel);
    this.outer = outerCtx?.source;
    if (this.outer !== undefined && !this.outer.add(this.cancel)) this.cancel();
  }

  /** Streaming responses end when the handler ends the stream: grpc-js emits 'finish', then sends status. */
  watchStreamEnd(): void {
    this.streaming = true;
    this.call.once('finish', this.end);
  }

  /** Unary and client-streaming handlers end by calling back; wrap the callback to see it. */
  wrapCallback(callback: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    return (...args) => {
      this.end();
      return callback(...args);
    };
  }

  /** The client cancelled, the incoming deadline expired, or an enclosing context was cancelled. */
  readonly cancel = (): void => {
    this.detach();
    this.source.cancel();
  };

  /**
   * The handler finished. grpc-js 1.14 then emits 'cancelled' even for a successful call (so its `parent`
   * option cancels children when the parent completes); we stop listening first, so calls still in
   * flight keep running until their own deadline.
   */
  readonly end = (): void => {
    this.detach();
    this.source.end();
  };

  private detach(): void {
    this.call.removeListener('cancelled', this.cancel);
    if (this.streaming) this.call.removeListener('finish', this.end);
    this.outer?.remove(this.cancel);
  }
}

function invoke(handler: Handler, self: unknown, call: IncomingCallLike, callback: unknown): unknown {
  return callback === undefined ? handler.call(self, call) : handler.call(self, call, callback as () => void);
}

function wrapHandler(handler: Handler, self: unknown): Handler {
  return function propagatingHandler(call, callback) {
    const scope = new IncomingCallScope(call, storage.getStore());
    let cb: unknown;
    if (typeof callback === 'function') cb = scope.wrapCallback(callback);
    else scope.watchStreamEnd();
    try {
      return storage.run(scope.ctx, invoke, handler, self, call, cb);
    } catch (error) {
      // grpc-js answers UNKNOWN for a handler that throws; the call is over.
      scope.end();
      throw error;
    }
  };
}

/** Own and inherited method names, so class instances work as well as object literals. */
function handlerNames(implementation: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = implementation; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  }
  return [...names];
}

/**
 * Wrap a grpc-js service implementation so that each handler runs inside a {@link CallContext} carrying
 * the incoming call's deadline (`call.getDeadline()`, from the `grpc-timeout` header) and its
 * cancellation (the server call's `'cancelled'` event: client cancel, connection loss, or the incoming
 * deadline expiring). Calls made through switchyard channels from the handler — after `await`s, in
 * timers, in promises it creates — inherit both, as with grpc-go's context or grpc-js's `parent` option
 * with `Propagate.DEADLINE | Propagate.CANCELLATION`, but without passing anything by hand.
 *
 * Works for all four handler kinds: unary and client-streaming `(call, callback)` — the call ends when
 * the callback is called —, server-streaming and bidi `(call)` — it ends with `call.end()` ('finish').
 * At the end the context's listeners are dropped, not called: calls still in flight keep their deadline
 * but are not cancelled (unlike grpc-js's `parent`, which cancels them because grpc-js emits 'cancelled'
 * after every call). The context is entered once per incoming call (`AsyncLocalStorage.run`).
 *
 * If a wrapped handler is invoked inside an existing context (another wrapped handler calling it in
 * process, or code under {@link runWithDeadline}), the earlier deadline wins and that context's
 * cancellation also cancels the handler's. (A grpc-js server *started* inside {@link runWithDeadline}
 * does not pass that scope on: grpc-js runs incoming calls in its own async context.)
 *
 * Limitation (how AsyncLocalStorage works): listeners added with `call.on('data' | 'end', …)` are called
 * from grpc-js's own context and do not see this one; read streams with `for await`, which does — for a
 * bidi call iterate `call.iterator({ destroyOnReturn: false })`, since by default the iterator destroys
 * the whole Duplex when the loop ends and the response could no longer be sent.
 *
 * Handlers keep their `this` (the original implementation object). Non-function members are copied.
 *
 * @param implementation the object passed to `server.addService(definition, implementation)`.
 * @returns a new object with the same keys, to pass to `addService` instead.
 * @throws TypeError naming the argument if `implementation` is not an object.
 */
export function propagateDeadlines<T extends UntypedServiceImplementation>(implementation: T): T {
  if (typeof implementation !== 'object' || implementation === null) {
    throw new TypeError(`propagateDeadlines(implementation): must be an object of handler functions, got ${describeArgument(implementation)}`);
  }
  const wrapped: Record<string, unknown> = {};
  for (const name of handlerNames(implementation)) {
    const member: unknown = (implementation as Record<string, unknown>)[name];
    wrapped[name] = typeof member === 'function' ? wrapHandler(member as Handler, implementation) : member;
  }
  return wrapped as T;
}
