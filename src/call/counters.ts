import type { RetryThrottle } from '../retry/throttle';
import type { ChannelStats } from './events';

/** Plain counters a channel bumps on the call path; {@link ChannelStats} is a copy of them. Internal. */
export class ChannelCounters {
  calls = 0;
  succeeded = 0;
  failed = 0;
  attempts = 0;
  retries = 0;
  hedges = 0;
  transparentRetries = 0;
  throttled = 0;
  deadlineExceeded = 0;

  snapshot(throttle: RetryThrottle | undefined): ChannelStats {
    return {
      calls: this.calls,
      succeeded: this.succeeded,
      failed: this.failed,
      attempts: this.attempts,
      retries: this.retries,
      hedges: this.hedges,
      transparentRetries: this.transparentRetries,
      throttled: this.throttled,
      deadlineExceeded: this.deadlineExceeded,
      tokens: throttle?.tokens,
    };
  }
}
