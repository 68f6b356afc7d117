import type { RetryThrottlingConfig } from '../config/types';

/**
 * The per-channel retry throttle of gRFC A6 ("Throttling Retry Attempts and Hedged RPCs"): a token bucket
 * that disables retries **and** hedges while the recent failure ratio is too high.
 *
 * - Starts full at `maxTokens`; stays within [0, `maxTokens`].
 * - Every RPC of the channel counts, "regardless of service or method invoked" (A6): calls of methods
 *   without a retry or hedging policy too.
 * - {@link recordFailure}: −1 token, for an attempt that failed with a retryable (retry policy) or non-fatal
 *   (hedging policy) status code, or that carried a "do not retry" pushback (the only failure a call
 *   without a policy can count). Other failures (e.g. INVALID_ARGUMENT) are not counted: A6 does not
 *   want malformed requests to look like server trouble.
 * - {@link recordSuccess}: +`tokenRatio` tokens, for every OK attempt.
 * - {@link allows}: a retry or a hedge (never the first attempt) may be sent only while
 *   `tokens > maxTokens / 2`. A throttled retry fails at once, it does not wait for tokens.
 *
 * Tokens are kept as integer milli-tokens, which is exact because A6 limits `tokenRatio` to 3 decimals
 * ("Decimal places beyond 3 are ignored"): a float bucket would drift after millions of +0.1 steps and
 * flip the allow/deny threshold at the wrong event. Each method is O(1) and allocation-free.
 */
export class RetryThrottle {
  /** `maxTokens` of the config this throttle was built from. */
  readonly maxTokens: number;
  /** `tokenRatio` as applied: truncated to 3 decimals (A6). */
  readonly tokenRatio: number;
  private readonly maxMilli: number;
  private readonly ratioMilli: number;
  private milli: number;

  /**
   * @param config validated `retryThrottling` (`maxTokens` in (0, 1000], `tokenRatio` > 0).
   * @param previous the throttle of the previous service config of the same channel, if any. Its fill
   *   level is carried over, rescaled to the new `maxTokens` (as gRPC C-core does), so that a config
   *   update does not reset an overloaded server's protection to "full".
   */
  constructor(config: RetryThrottlingConfig, previous?: RetryThrottle) {
    this.maxTokens = config.maxTokens;
    this.maxMilli = Math.round(config.maxTokens * 1000);
    // The epsilon absorbs binary representation error (0.57 * 1000 = 569.999…) before truncating.
    this.ratioMilli = Math.floor(config.tokenRatio * 1000 + 1e-6);
    this.tokenRatio = this.ratioMilli / 1000;
    this.milli =
      previous === undefined
        ? this.maxMilli
        : Math.min(this.maxMilli, Math.floor((previous.milli * this.maxMilli) / previous.maxMilli));
  }

  /** Current token count (a multiple of 0.001), for stats and tests. */
  get tokens(): number {
    return this.milli / 1000;
  }

  /** True when a retry or a hedge may be sent now: `tokens > maxTokens / 2` (A6). */
  allows(): boolean {
    return this.milli * 2 > this.maxMilli;
  }

  /** Count one failed attempt (retryable / non-fatal code, or a "do not retry" pushback): −1 token, floor 0. */
  recordFailure(): void {
    this.milli = this.milli > 1000 ? this.milli - 1000 : 0;
  }

  /** Count one successful (OK) attempt: +`tokenRatio`, capped at `maxTokens`. */
  recordSuccess(): void {
    const next = this.milli + this.ratioMilli;
    this.milli = next < this.maxMilli ? next : this.maxMilli;
  }
}
