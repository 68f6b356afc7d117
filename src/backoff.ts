/**
 * @packageDocumentation
 * The one exponential backoff of switchyard (grpc/grpc `doc/connection-backoff.md`), at the ground
 * floor like grpc-go's `backoff` package: subchannel reconnects, health-check streams, DNS
 * re-resolution after a failure, and the etcd resolver and registration all use it. (gRFC A6's retry
 * backoff is a different formula and lives in `retry/backoff.ts`.)
 *
 * Imports nothing but `errors`; every value is in milliseconds.
 */
import { ConfigError } from './errors';

/** `INITIAL_BACKOFF` of `doc/connection-backoff.md`: 1 000 ms. */
export const DEFAULT_INITIAL_BACKOFF_MS = 1_000;
/** `MAX_BACKOFF` of `doc/connection-backoff.md`: 120 000 ms. */
export const DEFAULT_MAX_BACKOFF_MS = 120_000;
/** `MIN_CONNECT_TIMEOUT` of `doc/connection-backoff.md`: 20 000 ms. */
export const DEFAULT_MIN_CONNECT_TIMEOUT_MS = 20_000;
/** `MULTIPLIER` of `doc/connection-backoff.md`: each failure grows the backoff by 1.6. */
export const BACKOFF_MULTIPLIER = 1.6;
/** `JITTER` of `doc/connection-backoff.md`: a backoff is randomized by ±20 %. */
export const BACKOFF_JITTER = 0.2;

/** The largest delay Node's timers accept (2^31 − 1 ms). */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * The un-jittered delay after `failures` failures (`doc/connection-backoff.md`):
 * `min(initialMs × 1.6^failures, maxMs)`. Pure.
 *
 * @param failures failures since the last success (0 for the first retry).
 * @param initialMs the first delay, ms.
 * @param maxMs the cap, ms.
 */
export function backoffBaseMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(initialMs * Math.pow(BACKOFF_MULTIPLIER, failures), maxMs);
}

/**
 * `delayMs` randomized by ±{@link BACKOFF_JITTER} (so the result may exceed a cap by 20 %, as the doc's
 * algorithm does).
 * @param random uniform numbers in [0, 1).
 */
export function jitter(delayMs: number, random: () => number): number {
  return delayMs * (1 + BACKOFF_JITTER * (2 * random() - 1));
}

/** Validated reconnect parameters, all in milliseconds. */
export interface ConnectionBackoffConfig {
  /** Backoff before the second attempt (`INITIAL_BACKOFF`), ms. */
  readonly initialBackoffMs: number;
  /** Cap on the un-jittered backoff (`MAX_BACKOFF`), ms. */
  readonly maxBackoffMs: number;
  /** Every attempt gets at least this long to become READY (`MIN_CONNECT_TIMEOUT`), ms. */
  readonly minConnectTimeoutMs: number;
}

/** The channel options that tune reconnect backoff, in ms (names as in `SwitchyardChannelOptions`). */
export interface ConnectionBackoffOptions {
  readonly initialReconnectBackoffMs?: number;
  readonly maxReconnectBackoffMs?: number;
  readonly minConnectTimeoutMs?: number;
}

/**
 * Fill in the `doc/connection-backoff.md` defaults and validate the user's values.
 *
 * @param options the three reconnect options of the channel (any may be undefined).
 * @returns the config with every field set, in ms.
 * @throws ConfigError `options.initialReconnectBackoffMs` / `options.maxReconnectBackoffMs` /
 *   `options.minConnectTimeoutMs` when a value is not a finite number in (0, 2147483647], or when the
 *   max backoff is below the initial backoff.
 */
export function resolveConnectionBackoffConfig(options: ConnectionBackoffOptions = {}): ConnectionBackoffConfig {
  const initialBackoffMs = positiveMs('initialReconnectBackoffMs', options.initialReconnectBackoffMs, DEFAULT_INITIAL_BACKOFF_MS);
  const maxBackoffMs = positiveMs(
    'maxReconnectBackoffMs',
    options.maxReconnectBackoffMs,
    // An initial backoff above the default cap raises the default cap rather than failing.
    Math.max(DEFAULT_MAX_BACKOFF_MS, initialBackoffMs),
  );
  if (maxBackoffMs < initialBackoffMs) {
    throw new ConfigError('options.maxReconnectBackoffMs', `must be >= initialReconnectBackoffMs (${initialBackoffMs})`, maxBackoffMs);
  }
  const minConnectTimeoutMs = positiveMs('minConnectTimeoutMs', options.minConnectTimeoutMs, DEFAULT_MIN_CONNECT_TIMEOUT_MS);
  return { initialBackoffMs, maxBackoffMs, minConnectTimeoutMs };
}

function positiveMs(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_DELAY_MS) {
    throw new ConfigError(`options.${field}`, `must be a finite number of milliseconds in (0, ${MAX_TIMER_DELAY_MS}]`, value);
  }
  return value;
}

/** The timing of one connection attempt, relative to the moment it starts, in ms. */
export interface ConnectAttemptTiming {
  /**
   * The next attempt may start this long after this one started (`current_deadline − now` in
   * `doc/connection-backoff.md`); if this attempt takes longer, the next one may start at once. ms.
   */
  readonly backoffMs: number;
  /** Abandon this attempt if it is not READY this long after it started: max(backoff, min connect timeout). ms. */
  readonly connectTimeoutMs: number;
}

/** The reconnect backoff state of one subchannel (or one health-check stream). */
export interface ConnectionBackoff {
  /** Call when an attempt starts; returns its timing and advances the backoff for the attempt after it. */
  nextAttempt(): ConnectAttemptTiming;
  /** Call when a connection becomes READY: the next attempt starts over at the initial backoff. */
  reset(): void;
}

/**
 * Reconnect backoff per `doc/connection-backoff.md` (`ConnectWithBackoff`): the first attempt after a
 * reset waits `initialBackoffMs` (un-jittered, as in the doc's pseudocode); each later one multiplies
 * the un-jittered backoff by 1.6, caps it at `maxBackoffMs`, then jitters it by ±20 %. Each attempt's
 * connect timeout is max(its backoff, `minConnectTimeoutMs`).
 *
 * @param config validated parameters (see {@link resolveConnectionBackoffConfig}).
 * @param random uniform numbers in [0, 1) for the jitter.
 */
export function createConnectionBackoff(config: ConnectionBackoffConfig, random: () => number): ConnectionBackoff {
  // Failed attempts since the last reset; -1 before the first attempt.
  let failures = -1;
  return {
    nextAttempt() {
      failures++;
      const base = backoffBaseMs(failures, config.initialBackoffMs, config.maxBackoffMs);
      const backoffMs = failures === 0 ? base : jitter(base, random);
      return { backoffMs, connectTimeoutMs: Math.max(backoffMs, config.minConnectTimeoutMs) };
    },
    reset() {
      failures = -1;
    },
  };
}
