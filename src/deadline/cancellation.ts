/** A function called once when a {@link Cancellation} is cancelled. */
export type CancelListener = () => void;

const LIVE = 0;
const CANCELLED = 1;
const ENDED = 2;

/**
 * A one-shot cancellation source with a tiny listener set: one inline slot (the common case, one outgoing
 * call in flight per incoming call) and a Set only beyond that. Not an EventEmitter or AbortSignal:
 * adding and removing a listener allocate nothing in the common case.
 *
 * Three states: live → cancelled (listeners are called once, then dropped) or live → ended (the owner
 * finished normally: listeners are dropped **without** being called, and later additions are ignored,
 * so nothing registered after the end can leak).
 */
export class Cancellation {
  private state = LIVE;
  private first: CancelListener | undefined = undefined;
  private rest: Set<CancelListener> | undefined = undefined;

  /** True once {@link cancel} ran (an ended source is never cancelled). */
  get cancelled(): boolean {
    return this.state === CANCELLED;
  }

  /**
   * Register `listener` to run on cancellation. Adding the same function twice registers it once.
   * @returns false when the source is already cancelled: the listener was not added and will not run,
   *   so the caller acts on the cancellation itself. True otherwise (after the end, the listener is
   *   silently not kept: it could never run).
   */
  add(listener: CancelListener): boolean {
    if (this.state !== LIVE) return this.state !== CANCELLED;
    if (this.first === undefined && !this.rest?.has(listener)) {
      this.first = listener;
    } else if (this.first !== listener) {
      (this.rest ??= new Set()).add(listener);
    }
    return true;
  }

  /** Unregister `listener`; a no-op if it is not registered (e.g. after cancellation or the end). */
  remove(listener: CancelListener): void {
    if (this.first === listener) this.first = undefined;
    else this.rest?.delete(listener);
  }

  /**
   * Cancel: run every listener once, in no guaranteed order, then drop them. A no-op after cancellation
   * or the end. If listeners throw, all still run and the first error is rethrown afterwards.
   */
  cancel(): void {
    if (this.state !== LIVE) return;
    this.state = CANCELLED;
    const first = this.first;
    const rest = this.rest;
    this.first = undefined;
    this.rest = undefined;
    let error: unknown;
    let failed = false;
    if (first !== undefined) {
      try {
        first();
      } catch (e) {
        failed = true;
        error = e;
      }
    }
    if (rest !== undefined) {
      for (const listener of rest) {
        try {
          listener();
        } catch (e) {
          if (!failed) error = e;
          failed = true;
        }
      }
    }
    if (failed) throw error;
  }

  /** End normally: drop the listeners without calling them. A no-op after cancellation or the end. */
  end(): void {
    if (this.state !== LIVE) return;
    this.state = ENDED;
    this.first = undefined;
    this.rest = undefined;
  }
}
