import { EventEmitter } from 'node:events';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import sinon from 'sinon';
import { describe, expect, it } from 'vitest';
import { Cancellation } from '../../../src/deadline/cancellation';
import {
  currentCallContext,
  propagateDeadlines,
  runWithDeadline,
  runWithTimeout,
  type CallContext,
} from '../../../src/deadline/context';

/** Stands in for a grpc-js server call: an EventEmitter with getDeadline(). */
class FakeCall extends EventEmitter {
  constructor(private readonly deadline: Date | number = Infinity) {
    super();
  }
  getDeadline(): Date | number {
    return this.deadline;
  }
  ourListeners(): number {
    return this.listenerCount('cancelled') + this.listenerCount('finish');
  }
}

type AnyHandler = (call: FakeCall, callback?: (...args: unknown[]) => void) => unknown;

function wrap(handlers: Record<string, AnyHandler>): Record<string, AnyHandler> {
  return propagateDeadlines(handlers as unknown as UntypedServiceImplementation) as unknown as Record<string, AnyHandler>;
}

describe('Cancellation', () => {
  it('calls each listener once on cancel, then drops them', () => {
    const c = new Cancellation();
    const a = sinon.spy();
    const b = sinon.spy();
    const d = sinon.spy();
    expect(c.add(a)).toBe(true);
    expect(c.add(b)).toBe(true);
    expect(c.add(b)).toBe(true); // duplicate: registered once
    expect(c.add(d)).toBe(true);
    c.remove(d);
    c.cancel();
    c.cancel();
    expect(a.callCount).toBe(1);
    expect(b.callCount).toBe(1);
    expect(d.callCount).toBe(0);
    expect(c.cancelled).toBe(true);
    expect(c.add(sinon.spy())).toBe(false);
  });

  it('end() drops listeners without calling them and ignores later cancel/add', () => {
    const c = new Cancellation();
    const a = sinon.spy();
    c.add(a);
    c.end();
    c.cancel();
    expect(a.called).toBe(false);
    expect(c.cancelled).toBe(false);
    const late = sinon.spy();
    expect(c.add(late)).toBe(true);
    c.cancel();
    expect(late.called).toBe(false);
  });

  it('runs every listener even if some throw, then rethrows the first error', () => {
    const c = new Cancellation();
    const after = sinon.spy();
    c.add(() => {
      throw new Error('first');
    });
    c.add(() => {
      throw new Error('second');
    });
    c.add(after);
    expect(() => c.cancel()).toThrow('first');
    expect(after.calledOnce).toBe(true);
  });
});

describe('runWithDeadline / runWithTimeout', () => {
  it('has no context outside any scope', () => {
    expect(currentCallContext()).toBeUndefined();
  });

  it('propagates across await and timers, and keeps the earlier deadline when nested', async () => {
    const seen: number[] = [];
    await runWithDeadline(5000, async () => {
      await Promise.resolve();
      seen.push(currentCallContext()!.deadline);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(currentCallContext()!.deadline);
          resolve();
        }, 0),
      );
      runWithDeadline(new Date(9000), () => seen.push(currentCallContext()!.deadline));
      await runWithDeadline(3000, async () => {
        await nextMacrotask();
        seen.push(currentCallContext()!.deadline);
      });
      seen.push(currentCallContext()!.deadline);
    });
    expect(seen).toEqual([5000, 5000, 5000, 3000, 5000]);
    expect(currentCallContext()).toBeUndefined();
  });

  it('a scope without an incoming call is never cancelled', () => {
    runWithDeadline(Infinity, () => {
      const ctx = currentCallContext()!;
      expect(ctx.cancelled).toBe(false);
      const fn = sinon.spy();
      expect(ctx.addCancelListener(fn)).toBe(true);
      ctx.removeCancelListener(fn);
      ctx.onCancel(fn)();
    });
  });

  it('runWithTimeout computes an absolute deadline from the clock', () => {
    const clock = sinon.useFakeTimers({ now: 1_000_000 });
    try {
      expect(runWithTimeout(250, () => currentCallContext()!.deadline)).toBe(1_000_250);
      expect(runWithTimeout(Infinity, () => currentCallContext()!.deadline)).toBe(Infinity);
      const custom = { now: () => 42, setTimeout: () => 0, clearTimeout: () => undefined };
      expect(runWithTimeout(8, () => currentCallContext()!.deadline, custom)).toBe(50);
    } finally {
      clock.restore();
    }
  });

  // Breaking it (no argument check) makes runWithDeadline(NaN) a scope whose calls all fail at once,
  // and a missing fn an obscure error from AsyncLocalStorage.
  it('returns fn’s value and rejects invalid arguments with a TypeError naming the argument', () => {
    expect(runWithDeadline(1, () => 'x')).toBe('x');
    expect(runWithTimeout(-1, () => currentCallContext()!.deadline)).toBeLessThan(Date.now());
    expect(() => runWithDeadline(NaN, () => 0)).toThrow(new TypeError(
      'runWithDeadline(deadline): must be a valid Date or a number of ms since the epoch (Infinity for none), got NaN'));
    expect(() => runWithDeadline(new Date('bad'), () => 0)).toThrow(/^runWithDeadline\(deadline\): .*got an invalid Date$/);
    expect(() => runWithDeadline('5' as unknown as number, () => 0)).toThrow(/^runWithDeadline\(deadline\): .*got "5"$/);
    expect(() => runWithDeadline(1, undefined as unknown as () => 0)).toThrow(
      new TypeError('runWithDeadline(…, fn): fn must be a function, got undefined'));
    expect(() => runWithTimeout(NaN, () => 0)).toThrow(new TypeError('runWithTimeout(timeoutMs): must be a number of milliseconds, got NaN'));
    expect(() => runWithTimeout('5' as unknown as number, () => 0)).toThrow(TypeError);
    expect(() => runWithTimeout(5, null as unknown as () => 0)).toThrow(/^runWithTimeout\(…, fn\): fn must be a function, got null$/);
  });
});

describe('propagateDeadlines', () => {
  it('gives unary-style handlers the call deadline across async boundaries', async () => {
    const call = new FakeCall(new Date(7777));
    let seen: number | undefined;
    const done = new Promise<unknown[]>((resolve) => {
      const impl = wrap({
        async unary(_c, callback) {
          await Promise.resolve();
          await nextMacrotask();
          seen = currentCallContext()?.deadline;
          callback!(null, 'reply');
        },
      });
      impl.unary!(call, (...args) => resolve(args));
    });
    expect(await done).toEqual([null, 'reply']);
    expect(seen).toBe(7777);
    expect(currentCallContext()).toBeUndefined();
  });

  it('cancels the context on the call’s cancelled event and removes its listeners', async () => {
    const call = new FakeCall(1000);
    let ctx: CallContext | undefined;
    const onCancel = sinon.spy();
    wrap({
      stream(_c) {
        ctx = currentCallContext();
        ctx!.addCancelListener(onCancel);
      },
    }).stream!(call);
    expect(call.ourListeners()).toBe(2);
    call.emit('cancelled', 'cancelled');
    expect(onCancel.calledOnce).toBe(true);
    expect(ctx!.cancelled).toBe(true);
    expect(call.ourListeners()).toBe(0);
    const late = sinon.spy();
    expect(ctx!.addCancelListener(late)).toBe(false);
    ctx!.onCancel(late);
    expect(late.calledOnce).toBe(true);
  });

  it('callback end: the cancelled event grpc-js emits after every call is not a cancellation', () => {
    const call = new FakeCall();
    let ctx: CallContext | undefined;
    const onCancel = sinon.spy();
    let respond: ((...args: unknown[]) => void) | undefined;
    wrap({
      unary(_c, callback) {
        ctx = currentCallContext();
        ctx!.onCancel(onCancel);
        respond = callback;
      },
    }).unary!(call, () => undefined);
    respond!(null, 'ok');
    expect(call.ourListeners()).toBe(0);
    call.emit('cancelled', 'cancelled');
    expect(onCancel.called).toBe(false);
    expect(ctx!.cancelled).toBe(false);
  });

  it('streaming end: finish ends the context; a later cancelled event is ignored', () => {
    const call = new FakeCall();
    let ctx: CallContext | undefined;
    const onCancel = sinon.spy();
    wrap({
      bidi(_c) {
        ctx = currentCallContext();
        ctx!.addCancelListener(onCancel);
      },
    }).bidi!(call);
    call.emit('finish');
    call.emit('cancelled', 'cancelled');
    expect(onCancel.called).toBe(false);
    expect(ctx!.cancelled).toBe(false);
    expect(call.ourListeners()).toBe(0);
  });

  it('a handler that throws ends the context and the error propagates to grpc-js', () => {
    const call = new FakeCall();
    const impl = wrap({
      unary() {
        throw new Error('boom');
      },
    });
    expect(() => impl.unary!(call, () => undefined)).toThrow('boom');
    expect(call.ourListeners()).toBe(0);
  });

  it('inside an outer scope, the earlier deadline wins', () => {
    const seen: number[] = [];
    const impl = wrap({ s: () => void seen.push(currentCallContext()!.deadline) });
    runWithDeadline(500, () => impl.s!(new FakeCall(800)));
    runWithDeadline(900, () => impl.s!(new FakeCall(800)));
    runWithDeadline(900, () => impl.s!(new FakeCall()));
    expect(seen).toEqual([500, 800, 900]);
  });

  it('an enclosing incoming call’s cancellation cancels nested calls and scopes', () => {
    const outerCall = new FakeCall(10_000);
    const innerCall = new FakeCall(20_000);
    const onInner = sinon.spy();
    const onScope = sinon.spy();
    let innerCtx: CallContext | undefined;
    const inner = wrap({
      s() {
        innerCtx = currentCallContext();
        innerCtx!.addCancelListener(onInner);
      },
    });
    const outer = wrap({
      s(c) {
        inner.s!(innerCall);
        runWithDeadline(5000, () => currentCallContext()!.addCancelListener(onScope));
        return c;
      },
    });
    outer.s!(outerCall);
    expect(innerCtx!.deadline).toBe(10_000);
    outerCall.emit('cancelled', 'cancelled');
    expect(onInner.calledOnce).toBe(true);
    expect(onScope.calledOnce).toBe(true);
    expect(innerCtx!.cancelled).toBe(true);
    expect(innerCall.ourListeners()).toBe(0);
  });

  it('a nested call that ends first unsubscribes from the enclosing one', () => {
    const outerCall = new FakeCall();
    const innerCall = new FakeCall();
    let innerCtx: CallContext | undefined;
    const inner = wrap({ s: () => void (innerCtx = currentCallContext()) });
    wrap({ s: () => void inner.s!(innerCall) }).s!(outerCall);
    innerCall.emit('finish');
    outerCall.emit('cancelled');
    expect(innerCtx!.cancelled).toBe(false);
  });

  it('keeps `this`, methods of class instances and non-function members', () => {
    class Impl {
      readonly greeting = 'hi';
      hello(_c: FakeCall, callback: (e: null, v: string) => void): void {
        callback(null, `${this.greeting} ${currentCallContext()!.deadline}`);
      }
    }
    const wrapped = propagateDeadlines(new Impl() as unknown as UntypedServiceImplementation) as unknown as Impl;
    expect(wrapped.greeting).toBe('hi');
    let reply = '';
    wrapped.hello(new FakeCall(42), (_e, v) => (reply = v));
    expect(reply).toBe('hi 42');
  });

  it('rejects a non-object implementation', () => {
    expect(() => propagateDeadlines(null as unknown as UntypedServiceImplementation)).toThrow(
      new TypeError('propagateDeadlines(implementation): must be an object of handler functions, got null'));
  });
});
