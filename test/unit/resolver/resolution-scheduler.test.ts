import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { createResolutionScheduler } from '../../../src/resolver/resolution-scheduler';

describe('resolution scheduler (the DNS resolver timing rules)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 0 });
  });
  afterEach(() => clock.restore());

  function scheduler(outcome: () => Promise<boolean>, refreshIntervalMs = 60_000, minIntervalMs = 30_000) {
    const starts: number[] = [];
    const s = createResolutionScheduler({
      clock: systemClock,
      refreshIntervalMs,
      minIntervalMs,
      run: () => {
        starts.push(Date.now());
        return outcome();
      },
    });
    return { s, starts };
  }

  it('counts a rejected or synchronously throwing run as a failure (backoff retry)', async () => {
    const rejecting = scheduler(() => Promise.reject(new Error('x')));
    rejecting.s.request();
    await clock.tickAsync(1000);
    expect(rejecting.starts).toEqual([0, 1000]);
    rejecting.s.close();

    const throwing = scheduler(() => {
      throw new Error('sync');
    });
    throwing.s.request();
    await clock.tickAsync(1000);
    expect(throwing.starts).toEqual([1000, 2000]);
    throwing.s.close();
    expect(clock.countTimers()).toBe(0);
  });

  it('caps the backoff at a refresh interval shorter than 1 s', async () => {
    const { s, starts } = scheduler(() => Promise.resolve(false), 300, 0);
    s.request();
    await clock.tickAsync(1000);
    expect(starts).toEqual([0, 300, 600, 900]);
    s.close();
  });

  it('lets a request bring an ongoing backoff forward only as far as the rate limit allows', async () => {
    let ok = true;
    const { s, starts } = scheduler(() => Promise.resolve(ok), 60_000, 5000);
    s.request(); // success at 0
    await clock.tickAsync(5000);
    ok = false;
    s.request(); // at 5000: allowed, fails
    await clock.tickAsync(0);
    // Backoff would retry at 6000; a request cannot make it sooner than 5000 + 5000 anyway, so it stays.
    s.request();
    await clock.tickAsync(1000);
    expect(starts).toEqual([0, 5000, 6000]);
    s.close();
  });

  it('does nothing after close(), including when a run in flight finishes', async () => {
    let finish: (ok: boolean) => void = () => {};
    const { s, starts } = scheduler(() => new Promise<boolean>((resolve) => (finish = resolve)));
    s.request();
    s.close();
    finish(true);
    s.request();
    await clock.tickAsync(600_000);
    expect(starts).toEqual([0]);
    expect(clock.countTimers()).toBe(0);
  });
});
