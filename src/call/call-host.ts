import type { EventEmitter } from 'node:events';
import type { MethodConfig } from '../config/types';
import type { PickArgs, PickResult } from '../picker/types';
import type { PolicyHost } from '../retry/call-policy';
import type { RetryBufferBudget } from '../retry/retry-buffer';
import type { CallObserver } from '../telemetry/observer';
import type { SubchannelCallCounts } from '../telemetry/subchannels';
import type { ChannelCounters } from './counters';
import type { SwitchyardEvents } from './events';

/**
 * What a call needs from its channel (the seam between `channel/` and `call/`, as grpc-js's
 * `retrying-call` would need from its channel if it did not import it). Implemented by the internal
 * channel; the call engine's unit tests implement it with a fake.
 */
export interface CallHost extends PolicyHost {
  readonly counters: ChannelCounters;
  readonly events: EventEmitter<SwitchyardEvents>;
  readonly retryBudget: RetryBufferBudget;
  /**
   * The method config for `/package.Service/Method` (one memoized map lookup), if any; `null` before
   * the channel's first resolver result (or error) selected its service config: the call then waits
   * with {@link CallHost.awaitConfig}.
   */
  methodConfig(method: string): MethodConfig | undefined | null;
  /**
   * Park a call that got `null` from {@link CallHost.methodConfig} until the service config is selected
   * (leaving IDLE first); the host then calls `onPickerChanged`.
   */
  awaitConfig(call: HostedCall): void;
  /** The current picker's answer for one attempt; leaves IDLE first. */
  pick(args: PickArgs): PickResult;
  /** Park the call until the next picker; the host then calls `onPickerChanged`. */
  queue(call: HostedCall): void;
  unqueue(call: HostedCall): void;
  /**
   * A call started: the process must stay alive until {@link CallHost.onCallEnd}, and `close()` must
   * reach it (`onChannelClosed`).
   */
  onCallStart(call: HostedCall): void;
  /** That call ended (once per started call). */
  onCallEnd(call: HostedCall): void;
  /** `details` prefixed with the channel's target, for statuses of calls that failed before a server saw them. */
  failureReason(details: string): string;
  // ---- telemetry (src/telemetry): both optional, read once per call / attempt
  /** Metrics, spans and debug log lines of each call; `undefined` when the channel records none (then a call allocates nothing for it). */
  readonly callObserver?: CallObserver;
  /** The per-subchannel call counters of `channel.snapshot()` for the subchannel with this address key, if the channel holds it. O(1). */
  subchannelCalls?(key: string): SubchannelCallCounts | undefined;
}

/** A call, as its channel drives it. */
export interface HostedCall {
  /** A new picker (or the first service config) is in: redo the picks (or the start) the call waits for. */
  onPickerChanged(): void;
  /** The channel closed: end now unless an attempt is in flight; retry and hedge nothing more. */
  onChannelClosed(): void;
}
