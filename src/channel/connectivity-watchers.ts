import type { Clock, TimerHandle } from '../clock';
import type { ConnectivityState } from '../picker/types';

interface Watcher {
  readonly from: ConnectivityState;
  readonly callback: (error?: Error) => void;
  timer: TimerHandle | undefined;
}

/**
 * The `watchConnectivityState` bookkeeping of grpc-js's `Channel` interface: a callback fires once,
 * with no error on the first change away from `from`, or with an error when the deadline passes first.
 */
export class ConnectivityWatchers {
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly clock: Clock) {}

  /** @param deadline absolute, `Date` or ms since epoch; `Infinity` waits forever. */
  add(from: ConnectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const watcher: Watcher = { from, callback, timer: undefined };
    this.watchers.add(watcher);
    if (deadlineMs !== Infinity) {
      watcher.timer = this.clock.setTimeout(() => {
        this.watchers.delete(watcher);
        callback(new Error('Deadline passed without connectivity state change'));
      }, deadlineMs - this.clock.now());
    }
  }

  /** Fire every watcher waiting to leave a state other than `state`. */
  notify(state: ConnectivityState): void {
    for (const watcher of this.watchers) {
      if (watcher.from === state) continue;
      this.watchers.delete(watcher);
      if (watcher.timer !== undefined) this.clock.clearTimeout(watcher.timer);
      process.nextTick(watcher.callback);
    }
  }

  /** Drop every watcher's timer (channel closed; they were notified of SHUTDOWN already). */
  clear(): void {
    for (const watcher of this.watchers) if (watcher.timer !== undefined) this.clock.clearTimeout(watcher.timer);
    this.watchers.clear();
  }
}
