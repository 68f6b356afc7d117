import * as sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, systemClock } from '../../src/clock';

/** The system clock under sinon's fake timers, which fire a delay above 2^31 − 1 ms after 1 ms, as Node does. */
describe('systemClock.setTimeout beyond the largest Node timer delay', () => {
  let clock: sinon.SinonFakeTimers;
  const DAY_MS = 86_400_000;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });

  afterEach(() => {
    clock.restore();
  });

  // Breaking it (passing the delay straight to setTimeout) fires the callback after 1 ms.
  it('fires a 30-day timer after 30 days, not after 1 ms', () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, 30 * DAY_MS);
    clock.tick(1_000);
    expect(fired).toBe(0);
    clock.tick(30 * DAY_MS - 1_001);
    expect(fired).toBe(0);
    clock.tick(1);
    expect(fired).toBe(1);
    clock.tick(60 * DAY_MS);
    expect(fired).toBe(1);
  });

  it('fires exactly at the limit and one ms past it', () => {
    const fired: number[] = [];
    const start = Date.now();
    systemClock.setTimeout(() => fired.push(Date.now() - start), MAX_TIMER_DELAY_MS);
    systemClock.setTimeout(() => fired.push(Date.now() - start), MAX_TIMER_DELAY_MS + 1);
    clock.tick(MAX_TIMER_DELAY_MS + 1);
    expect(fired).toEqual([MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS + 1]);
  });

  // Breaking it (clearTimeout of only the first native timer) lets a cleared timer fire after a re-arm.
  it('clearTimeout cancels a long timer before and after it re-armed', () => {
    let fired = 0;
    const early = systemClock.setTimeout(() => fired++, 60 * DAY_MS);
    const late = systemClock.setTimeout(() => fired++, 60 * DAY_MS);
    systemClock.clearTimeout(early);
    clock.tick(30 * DAY_MS); // `late` has re-armed once
    systemClock.clearTimeout(late);
    clock.tick(60 * DAY_MS);
    expect(fired).toBe(0);
  });

  it('never fires an infinite delay and holds no timer for it', () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, Infinity);
    expect(clock.countTimers()).toBe(0);
    clock.tick(100 * DAY_MS);
    expect(fired).toBe(0);
  });

  it('fires a negative or NaN delay as soon as possible', () => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, -5);
    systemClock.setTimeout(() => fired++, NaN);
    clock.tick(0);
    expect(fired).toBe(2);
  });
});
