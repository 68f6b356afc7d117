/**
 * Waiting helpers for channel integration tests: poll a condition, or follow a channel's connectivity
 * state through the public grpc-js `Channel` API (`getConnectivityState` + `watchConnectivityState`).
 * Bounds are generous on purpose: they catch hangs, they do not measure speed.
 */
import * as grpc from '@grpc/grpc-js';

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Poll `predicate` every `intervalMs` (default 20 ms) until it returns true.
 * @param what described in the timeout error.
 * @param timeoutMs relative, default 15 000 ms.
 * @throws Error (rejects) when the condition is still false after `timeoutMs`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Wait until `channel` reports `wanted`, asking it to connect (`getConnectivityState(true)`) when
 * `tryToConnect` is set, and following changes with `watchConnectivityState`.
 * @param timeoutMs relative, default 15 000 ms.
 * @throws Error (rejects) naming the last state seen when `wanted` is not reached in time.
 */
export function waitForState(
  channel: grpc.ChannelInterface,
  wanted: grpc.connectivityState,
  timeoutMs = 15_000,
  tryToConnect = true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(tryToConnect);
      if (state === wanted) return resolve();
      if (Date.now() >= deadline) {
        return reject(new Error(`channel is ${grpc.connectivityState[state]}, wanted ${grpc.connectivityState[wanted]}`));
      }
      channel.watchConnectivityState(state, deadline, () => check());
    };
    check();
  });
}

/** Count how often each value occurs. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
