import { connectivityState } from '@grpc/grpc-js';
import type { Attributes } from '@opentelemetry/api';
import type { ConnectivityState, Subchannel, SubchannelStateListener } from '../picker/types';
import type { ChannelLog } from './debug-log';
import { ATTR, type ChannelInstruments } from './instruments';

/**
 * Calls (attempts) one subchannel carried, as channelz counts them per subchannel. Plain numbers the
 * call engine bumps: one lookup when an attempt starts on the subchannel, no allocation.
 */
export class SubchannelCallCounts {
  started = 0;
  succeeded = 0;
  failed = 0;
  inFlight = 0;
}

/** One subchannel in a channel snapshot. */
export interface SubchannelSnapshot {
  /** The address key, e.g. `127.0.0.1:50051`. */
  readonly address: string;
  /** Connectivity state name (`READY`, `TRANSIENT_FAILURE`, …). */
  readonly state: string;
  /** The reason of the last failed connection attempt or disconnection, and when (ms since the epoch). */
  readonly lastFailure: { readonly reason: string; readonly at: number } | undefined;
  /** Attempts started on this subchannel, ended OK, ended otherwise, and in flight now. */
  readonly calls: { readonly started: number; readonly succeeded: number; readonly failed: number; readonly inFlight: number };
}

interface Tracked {
  readonly subchannel: Subchannel;
  readonly counts: SubchannelCallCounts;
  lastFailure: { reason: string; at: number } | undefined;
}

/** Connectivity state names by value (grpc-js's enum). */
export const STATE_NAMES: readonly string[] = ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'];

/**
 * The subchannels a channel holds (each created once per address by its pool), with what a snapshot
 * shows of them (channelz's subchannel view) and gRFC A94's subchannel metrics:
 * `grpc.subchannel.connection_attempts_succeeded` / `_failed` (CONNECTING → READY / TRANSIENT_FAILURE),
 * `grpc.subchannel.disconnections` (READY → anything else; `grpc.disconnect_error` is `subchannel
 * shutdown` when the channel or policy dropped it, else `unknown`), `grpc.subchannel.open_connections`.
 * A connection attempt abandoned by Happy Eyeballs ends in SHUTDOWN from CONNECTING and counts as
 * neither success nor failure, as A94 asks.
 */
export class SubchannelRegistry {
  private readonly tracked = new Map<string, Tracked>();
  private readonly listener: SubchannelStateListener = (subchannel, previous, next, error) => this.onState(subchannel, previous, next, error);
  private readonly attributes: Attributes;

  /**
   * @param metrics the channel's A94 instruments, if it records metrics.
   * @param now the channel's clock (ms since the epoch), for failure times.
   */
  constructor(
    target: string,
    private readonly now: () => number,
    private readonly metrics: ChannelInstruments | undefined,
    private readonly log: ChannelLog | undefined,
  ) {
    this.attributes = Object.freeze({ [ATTR.target]: target });
  }

  /** Start tracking a subchannel the channel's pool just created. */
  add(subchannel: Subchannel): void {
    this.tracked.set(subchannel.key, { subchannel, counts: new SubchannelCallCounts(), lastFailure: undefined });
    subchannel.addStateListener(this.listener);
  }

  /** The call counts of the subchannel for `key`, if the channel holds one. O(1). */
  counts(key: string): SubchannelCallCounts | undefined {
    return this.tracked.get(key)?.counts;
  }

  /** Every subchannel held, O(subchannels). */
  snapshot(): SubchannelSnapshot[] {
    return [...this.tracked.values()].map(({ subchannel, counts, lastFailure }) => ({
      address: subchannel.key,
      state: STATE_NAMES[subchannel.getState()] ?? String(subchannel.getState()),
      lastFailure: lastFailure === undefined ? undefined : { ...lastFailure },
      calls: { started: counts.started, succeeded: counts.succeeded, failed: counts.failed, inFlight: counts.inFlight },
    }));
  }

  private onState(subchannel: Subchannel, previous: ConnectivityState, next: ConnectivityState, error: string | undefined): void {
    const tracked = this.tracked.get(subchannel.key);
    if (tracked === undefined || tracked.subchannel !== subchannel) return;
    const metrics = this.metrics;
    const attributes = this.attributes;
    const failed = next === connectivityState.TRANSIENT_FAILURE || (previous === connectivityState.READY && next !== connectivityState.READY);
    if (failed) {
      const reason = error ?? subchannel.getLastError() ?? (next === connectivityState.SHUTDOWN ? 'subchannel shutdown' : 'connection lost');
      tracked.lastFailure = { reason, at: this.now() };
    }
    if (metrics !== undefined) {
      if (previous === connectivityState.CONNECTING && next === connectivityState.READY) {
        metrics.connectionsSucceeded.add(1, attributes);
        metrics.openConnections.add(1, attributes);
      } else if (previous === connectivityState.CONNECTING && next === connectivityState.TRANSIENT_FAILURE) {
        metrics.connectionsFailed.add(1, attributes);
      } else if (previous === connectivityState.READY && next !== connectivityState.READY) {
        const disconnectError = next === connectivityState.SHUTDOWN ? 'subchannel shutdown' : 'unknown';
        metrics.disconnections.add(1, { ...attributes, [ATTR.disconnectError]: disconnectError });
        metrics.openConnections.add(-1, attributes);
      }
    }
    if (this.log?.subchannel) {
      const severity = next === connectivityState.TRANSIENT_FAILURE ? 'I' : 'D';
      const reason = next === connectivityState.TRANSIENT_FAILURE ? `: ${tracked.lastFailure?.reason ?? ''}` : '';
      this.log.write('subchannel', severity, `${subchannel.key}: ${STATE_NAMES[previous]} -> ${STATE_NAMES[next]}${reason}`);
    }
    if (next === connectivityState.SHUTDOWN) {
      subchannel.removeStateListener(this.listener);
      this.tracked.delete(subchannel.key);
    }
  }
}
