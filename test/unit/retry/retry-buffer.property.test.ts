/**
 * Bad input (issue "Faults"): messages larger than the retry buffer. gRFC A6 "Memory Management
 * (Buffering)": a call keeps its outgoing messages for replay only up to the per-call and per-channel
 * limits; a message that does not fit commits the call (it goes on, unreplayable) instead of being
 * buffered. So whatever the message sizes and however many calls share the channel, buffered bytes never
 * exceed either limit, a committed call is never retried, an uncommitted one replays every message, and
 * every byte is given back when the calls end.
 */
import fc from 'fast-check';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost, flush, retryPolicy, startCall, Status } from '../../helpers/call-fakes';

let clock: sinon.SinonFakeTimers;
beforeEach(() => {
  clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => clock.restore());

// FakeHost's budget: 1 KiB per call, 4 KiB per channel.
const PER_CALL = 1024;
const PER_CHANNEL = 4096;
const size = fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 400, max: 1_500 }), fc.constantFrom(PER_CALL, PER_CALL + 1, 64 * 1024));

describe('client-streaming calls sending messages of any size', () => {
  it('never buffer past the per-call or per-channel limit; overflow commits; uncommitted calls replay everything', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(size, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), async (perCall) => {
        const host = new FakeHost();
        host.config = { retryPolicy: retryPolicy({ maxAttempts: 2 }) };
        expect(host.retryBudget.perCallLimitBytes).toBe(PER_CALL);
        expect(host.retryBudget.perChannelLimitBytes).toBe(PER_CHANNEL);
        const calls = perCall.map(() => startCall(host, { unary: false }));
        const firstAttempts = [...host.calls];
        expect(firstAttempts).toHaveLength(calls.length);
        // The A6 rule, simulated: a message is buffered if it fits both limits, else its call commits.
        const buffered = perCall.map(() => 0);
        const committed = perCall.map(() => false);
        let inUse = 0;
        const longest = Math.max(...perCall.map((sizes) => sizes.length));
        for (let i = 0; i < longest; i++) {
          perCall.forEach((sizes, c) => {
            if (i >= sizes.length) return;
            const bytes = sizes[i]!;
            calls[c]!.call.sendMessageWithContext({}, Buffer.alloc(bytes));
            if (!committed[c]) {
              if (buffered[c]! + bytes <= PER_CALL && inUse + bytes <= PER_CHANNEL) {
                buffered[c]! += bytes;
                inUse += bytes;
              } else {
                committed[c] = true;
                inUse -= buffered[c]!;
              }
            }
            expect(host.retryBudget.bytesInUse).toBe(inUse);
            expect(host.retryBudget.bytesInUse).toBeLessThanOrEqual(PER_CHANNEL);
          });
        }
        for (const { call } of calls) call.halfClose();
        await flush();
        expect(host.recorded.commits.filter((e) => e.reason === 'buffer-limit')).toHaveLength(committed.filter(Boolean).length);

        // Every first attempt fails with a retryable code: uncommitted calls retry and replay, committed ones end.
        for (const attempt of firstAttempts) attempt.end(Status.UNAVAILABLE, 'first attempt lost');
        await flush();
        await clock.tickAsync(1_000);
        await flush();
        const retries = host.calls.slice(firstAttempts.length);
        expect(retries).toHaveLength(committed.filter((c) => !c).length);
        for (const retry of retries) retry.end(Status.OK, 'OK');
        await flush();

        let next = 0;
        calls.forEach(({ listener }, c) => {
          expect(listener.statuses).toHaveLength(1);
          // Committed or not, the first attempt carried every message: nothing is dropped.
          expect(firstAttempts[c]!.writes.map((w) => w.message.length)).toEqual(perCall[c]);
          if (committed[c]) {
            expect(listener.status.code).toBe(Status.UNAVAILABLE);
            return;
          }
          expect(listener.status.code).toBe(Status.OK);
          // The retry carried every message again, in order (retries start in the order the calls failed).
          const retry = retries[next++]!;
          expect(retry.writes.map((w) => w.message.length)).toEqual(perCall[c]);
          expect(retry.halfClosed).toBe(true);
        });
        expect(host.retryBudget.bytesInUse).toBe(0);
        expect(clock.countTimers()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
