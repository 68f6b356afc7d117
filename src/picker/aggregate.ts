import { connectivityState } from '@grpc/grpc-js';
import type { ConnectivityState } from './types';

/** How many children of a balancing policy are in each effective state (see {@link effectiveChildState}). */
export interface ConnectivityCounts {
  readonly ready: number;
  readonly connecting: number;
  readonly idle: number;
  readonly transientFailure: number;
}

/**
 * The state a policy that balances over several children (round_robin and its relatives) reports,
 * following the aggregation rule of gRFC A48 / A58 and grpc's `doc/load-balancing.md`:
 * READY if any child is READY; otherwise CONNECTING if any is CONNECTING or IDLE (an IDLE child is
 * about to be reconnected); otherwise TRANSIENT_FAILURE. With no children at all the result is
 * TRANSIENT_FAILURE: nothing can serve a call.
 *
 * Pure: callers count their children with {@link effectiveChildState} first.
 */
export function aggregateConnectivityState(counts: ConnectivityCounts): ConnectivityState {
  if (counts.ready > 0) return connectivityState.READY;
  if (counts.connecting > 0 || counts.idle > 0) return connectivityState.CONNECTING;
  return connectivityState.TRANSIENT_FAILURE;
}

/**
 * The state a child counts as for {@link aggregateConnectivityState}: a child that failed a connect
 * attempt stays TRANSIENT_FAILURE (sticky, per child) through its backoff, IDLE and CONNECTING
 * states until it is READY again, so a flapping backend does not pull the aggregate back to
 * CONNECTING (gRFC A62's sticky-TF, applied per child as gRFC A58 describes).
 * SHUTDOWN counts as TRANSIENT_FAILURE.
 *
 * @param raw the child's last reported connectivity state.
 * @param failedSinceReady whether the child reported TRANSIENT_FAILURE since it was last READY.
 */
export function effectiveChildState(raw: ConnectivityState, failedSinceReady: boolean): ConnectivityState {
  if (raw === connectivityState.READY) return raw;
  if (failedSinceReady || raw === connectivityState.SHUTDOWN) return connectivityState.TRANSIENT_FAILURE;
  return raw;
}

/** A {@link ConnectivityCounts} being tallied. */
export type MutableConnectivityCounts = { -readonly [K in keyof ConnectivityCounts]: number };

/**
 * Add one child's effective state (from {@link effectiveChildState}) to a tally, or with `delta` -1
 * take it away again: policies keep their counts incrementally, O(1) per child state change.
 */
export function countState(counts: MutableConnectivityCounts, state: ConnectivityState, delta: 1 | -1 = 1): void {
  switch (state) {
    case connectivityState.READY:
      counts.ready += delta;
      break;
    case connectivityState.CONNECTING:
      counts.connecting += delta;
      break;
    case connectivityState.IDLE:
      counts.idle += delta;
      break;
    default:
      counts.transientFailure += delta;
  }
}
