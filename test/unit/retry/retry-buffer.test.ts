import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PER_CALL_RETRY_BUFFER_BYTES,
  DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES,
  createRetryBufferBudget,
  newRetryBufferCall,
  releaseCall,
  tryBuffer,
} from '../../../src/retry/retry-buffer';

describe('retry buffer accounting (gRFC A6 "Memory Management (Buffering)")', () => {
  it('defaults to 256 KiB per call and 16 MiB per channel', () => {
    expect(DEFAULT_PER_CALL_RETRY_BUFFER_BYTES).toBe(262_144);
    expect(DEFAULT_PER_CHANNEL_RETRY_BUFFER_BYTES).toBe(16_777_216);
    const budget = createRetryBufferBudget();
    expect(budget).toEqual({ perCallLimitBytes: 262_144, perChannelLimitBytes: 16_777_216, bytesInUse: 0 });
    const call = newRetryBufferCall(budget);
    expect(tryBuffer(call, 262_144)).toBe(true);
    expect(tryBuffer(call, 1)).toBe(false);
  });

  it('enforces the per-call limit inclusively', () => {
    const budget = createRetryBufferBudget(100, 1000);
    const call = newRetryBufferCall(budget);
    expect(tryBuffer(call, 60)).toBe(true);
    expect(tryBuffer(call, 40)).toBe(true);
    expect(call.retryBufferedBytes).toBe(100);
    expect(tryBuffer(call, 1)).toBe(false);
    expect(call.retryBufferedBytes).toBe(100);
    expect(tryBuffer(call, 0)).toBe(true);
    expect(budget.bytesInUse).toBe(100);
  });

  it('enforces the shared per-channel limit across calls', () => {
    const budget = createRetryBufferBudget(100, 150);
    const a = newRetryBufferCall(budget);
    const b = newRetryBufferCall(budget);
    expect(tryBuffer(a, 100)).toBe(true);
    expect(tryBuffer(b, 50)).toBe(true);
    expect(budget.bytesInUse).toBe(150);
    expect(tryBuffer(b, 1)).toBe(false); // channel full although b is under its own limit
    releaseCall(b); // b commits
    releaseCall(a); // a ends
    expect(budget.bytesInUse).toBe(0);
    const c = newRetryBufferCall(budget);
    expect(tryBuffer(c, 100)).toBe(true);
  });

  it('a single message larger than the per-call limit never fits', () => {
    const call = newRetryBufferCall(createRetryBufferBudget(100, 1000));
    expect(tryBuffer(call, 101)).toBe(false);
    expect(call.retryBufferedBytes).toBe(0);
  });

  it('releaseCall is idempotent and refuses further buffering', () => {
    const budget = createRetryBufferBudget(100, 1000);
    const call = newRetryBufferCall(budget);
    tryBuffer(call, 30);
    releaseCall(call);
    releaseCall(call);
    expect(budget.bytesInUse).toBe(0);
    expect(call.retryBufferedBytes).toBe(-1);
    expect(tryBuffer(call, 1)).toBe(false);
    expect(budget.bytesInUse).toBe(0);
  });

  it('works with a zero limit (retries effectively disabled for any payload)', () => {
    const call = newRetryBufferCall(createRetryBufferBudget(0, 0));
    expect(tryBuffer(call, 0)).toBe(true);
    expect(tryBuffer(call, 1)).toBe(false);
  });
});
