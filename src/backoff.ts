import { ConfigError } from './errors';
import type { SwitchyardChannelOptions } from './channel/options';

/** `INITIAL_BACKOFF` of grpc/grpc `doc/connection-backoff.md`: 1 000 ms. */
export const DEFAULT_INITIAL_RECONNECT_BACKOFF_MS = 1_000;
/** `MAX_BACKOFF` of `doc/connection-backoff.md`: 120 000 ms. */
export const DEFAULT_MAX_RECONNECT_BACKOFF_MS = 120_000;
/** `MIN_CONNECT_TIMEOUT` of `doc/connection-backoff.md`: 20 000 ms. */
export const DEFAULT_MIN_CONNECT_TIMEOUT_MS = 20_000;
/** `MULTIPLIER` of `doc/connection-backoff.md`: each failed attempt grows the backoff by 1.6. */
export const RECONNECT_BACKOFF_MULTIPLIER = 1.6;
/** `JITTER` of `doc/connection-backoff.md`: a backoff is randomized by ±20 %. */
export const RECONNECT_BACKOFF_JITTER = 0.2;

/** The largest delay Node's timers accept (2^31 − 1 ms); longer delays would fire at once. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** Validated reconnect parameters, all in milliseconds. */
export interface ConnectionBackoffConfig {
  /** Backoff before the second attempt (`INITIAL_BACKOFF`), ms. */
  readonly initialBackoffMs: number;
  /** Cap on the un-jittered backoff (`MAX_BACKOFF`), ms. */
  readonly maxBackoffMs: number;
  /** Every attempt gets at least this long to become READY (`MIN_CONNECT_TIMEOUT`), ms. */
  readonly minConnectTimeoutMs: number;
}

/** The channel options that tune reconnect backoff; names match {@link SwitchyardChannelOptions}. */
export type ConnectionBackoffOptions = Pick<
  SwitchyardChannelOptions,
  'initialReconnectBackoffMs' | 'maxReconnectBackoffMs' | 'minConnectTimeoutMs'
>;

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
  const initialBackoffMs = positiveMs('initialReconnectBackoffMs', options.initialReconnectBackoffMs, DEFAULT_INITIAL_RECONNECT_BACKOFF_MS);
  const maxBackoffMs = positiveMs(
    'maxReconnectBackoffMs',
    options.maxReconnectBackoffMs,
    // An initial backoff above the default cap raises the default cap rather than failing.
    Math.max(DEFAULT_MAX_RECONNECT_BACKOFF_MS, initialBackoffMs),
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

/** The reconnect backoff state of one subchannel. */
export interface ConnectionBackoff {
  /** Call when an attempt starts; returns its timing and advances the backoff for the attempt after it. */
  nextAttempt(): ConnectAttemptTiming;
  /** Call when a connection becomes READY: the next attempt starts over at the initial backoff. */
  reset(): void;
}

/**
 * Reconnect backoff per grpc/grpc `doc/connection-backoff.md` (`ConnectWithBackoff`): the first
 * attempt after a reset waits `initialBackoffMs` (un-jittered, as in the doc's pseudocode); each later
 * one multiplies the un-jittered backoff by 1.6, caps it at `maxBackoffMs`, then jitters it by ±20 %
 * (so a delay may exceed the cap by up to 20 %, as the doc's algorithm does). Each attempt's connect
 * timeout is max(its backoff, `minConnectTimeoutMs`).
 *
 * @param config validated parameters (see {@link resolveConnectionBackoffConfig}).
 * @param random uniform numbers in [0, 1) for the jitter.
 */
export function createConnectionBackoff(config: ConnectionBackoffConfig, random: () => number): ConnectionBackoff {
  // The un-jittered backoff of the next attempt; undefined means "first attempt since a reset".
  let current: number | undefined;
  return {
    nextAttempt() {
      let backoffMs: number;
      if (current === undefined) {
        current = config.initialBackoffMs;
        backoffMs = current;
      } else {
        current = Math.min(current * RECONNECT_BACKOFF_MULTIPLIER, config.maxBackoffMs);
        backoffMs = current * (1 + RECONNECT_BACKOFF_JITTER * (2 * random() - 1));
      }
      return { backoffMs, connectTimeoutMs: Math.max(backoffMs, config.minConnectTimeoutMs) };
    },
    reset() {
      current = undefined;
    },
  };
}
