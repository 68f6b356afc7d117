import { connectivityState, status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import { notifyStateListeners } from './state-listeners';
import type { Clock, TimerHandle } from '../clock';
import type { ConnectivityState, SubchannelStateListener } from '../picker/types';
import type { Address } from '../resolver/types';
import {
  createConnectionBackoff,
  resolveConnectionBackoffConfig,
  type ConnectAttemptTiming,
  type ConnectionBackoff,
  type ConnectionBackoffConfig,
} from '../backoff';
import { ServingStatus, servingStatusName } from './health-proto';
import { startHealthWatch, type HealthWatch } from './health-watch';
import type { TransportStream } from '../transport/types';
import type { StreamSubchannel } from './types';

const { CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN } = connectivityState;

/** What {@link HealthCheckedSubchannel} needs. */
export interface HealthCheckedSubchannelOptions<S extends StreamSubchannel> {
  /** The pooled connection to wrap (a `ChannelSubchannel`); the wrapper never shuts it down. */
  readonly inner: S;
  /** `healthCheckConfig.serviceName` of the service config (gRFC A17); `""` asks for the server's overall health. */
  /** `HealthCheckRequest.service` of every Watch stream. */
  readonly serviceName: string;
  /** Drives the Watch retry backoff timer. */
  readonly clock: Clock;
  /** Uniform numbers in [0, 1) for the backoff jitter. */
  readonly random: () => number;
  /**
   * Backoff between failed Watch streams, with `doc/connection-backoff.md`'s algorithm (only
   * `initialBackoffMs`, `maxBackoffMs` matter); default: that doc's parameters (1 s, ×1.6, 120 s, ±20 %).
   */
  readonly backoff?: ConnectionBackoffConfig;
}

/**
 * A subchannel as a load-balancing policy sees it once client-side health checking (gRFC A17,
 * "Client-Side Health Checking") is enabled: the wrapped connection's state, except that READY is
 * reported only while the server says the service is healthy.
 *
 * - Connection not READY: this subchannel has the connection's state (IDLE, CONNECTING,
 *   TRANSIENT_FAILURE, SHUTDOWN) and no Watch stream runs.
 * - Connection READY: a `grpc.health.v1.Health/Watch` stream opens with `HealthCheckRequest{service}`
 *   and this subchannel stays CONNECTING until the first response. SERVING → READY; UNKNOWN,
 *   NOT_SERVING, SERVICE_UNKNOWN (or an unknown value) → TRANSIENT_FAILURE with an error naming that
 *   status, while the connection stays up (TRANSIENT_FAILURE → READY directly when healthy again, as
 *   A17 allows).
 * - Stream ends with UNIMPLEMENTED: the server has no health service; treated as healthy (READY) and
 *   not retried on this connection (a new connection tries again).
 * - Stream ends otherwise: TRANSIENT_FAILURE, then a new Watch after a `doc/connection-backoff.md`
 *   backoff counted from the failed stream's start (CONNECTING when it starts). A stream that delivered
 *   a response resets the backoff, so the next stream starts at once (A17).
 *
 * Wrappers are cheap and per policy: each holds one Watch stream on the shared connection. Call
 * {@link HealthCheckedSubchannel.dispose} when the policy releases it, then release `inner` to its pool.
 * Listeners are called synchronously, with this wrapper as the subchannel.
 */
export class HealthCheckedSubchannel<S extends StreamSubchannel = StreamSubchannel> implements StreamSubchannel {
  /** The wrapped pooled subchannel (give it back to the pool after {@link dispose}). */
  readonly inner: S;
  /** The connection's address (copied from `inner`). */
  readonly address: Address;
  /** The connection's address key (copied from `inner`), e.g. `127.0.0.1:50051`. */
  readonly key: string;
  /** `HealthCheckRequest.service` of every Watch stream. */
  readonly serviceName: string;
  private state: ConnectivityState;
  /** Why the health check made this subchannel TRANSIENT_FAILURE; undefined otherwise. */
  private healthError: string | undefined;
  private readonly listeners = new Set<SubchannelStateListener>();
  private readonly clock: Clock;
  private readonly backoff: ConnectionBackoff;
  private watch: HealthWatch | undefined;
  /** Timing of the running (or last) stream, for the retry delay. */
  private watchTiming: ConnectAttemptTiming | undefined;
  private watchStartedAtMs = 0;
  /** The current stream delivered at least one response. */
  private watchAnswered = false;
  /** UNIMPLEMENTED on this connection: healthy without checking until the connection goes. */
  private checkDisabled = false;
  private retryTimer: TimerHandle | undefined;
  private disposed = false;

  /** Starts the Watch stream at once if `inner` is already READY (a connection shared with another policy). */
  constructor(options: HealthCheckedSubchannelOptions<S>) {
    this.inner = options.inner;
    this.address = options.inner.address;
    this.key = options.inner.key;
    this.serviceName = options.serviceName;
    this.clock = options.clock;
    this.backoff = createConnectionBackoff(options.backoff ?? resolveConnectionBackoffConfig(), options.random);
    const initial = this.inner.getState();
    this.state = initial === READY ? CONNECTING : initial;
    this.inner.addStateListener(this.onInnerState);
    if (initial === READY) this.startWatch();
  }

  getState(): ConnectivityState {
    return this.state;
  }

  /** The health check's reason while it holds this subchannel in TRANSIENT_FAILURE, else the connection's last error. */
  getLastError(): string | undefined {
    return this.healthError ?? this.inner.getLastError();
  }

  /** Forwarded: starts the connection if it is IDLE (a no-op while it is up, healthy or not). */
  connect(): void {
    if (!this.disposed) this.inner.connect();
  }

  addStateListener(listener: SubchannelStateListener): void {
    if (!this.disposed && this.state !== SHUTDOWN) this.listeners.add(listener);
  }

  removeStateListener(listener: SubchannelStateListener): void {
    this.listeners.delete(listener);
  }

  /** Forwarded to the connection (see `StreamSubchannel.createStream`); the call layer's per-attempt path. */
  createStream(method: string, deadline: number, host?: string): TransportStream {
    return this.inner.createStream(method, deadline, host);
  }

  /**
   * Stop health checking: cancel the Watch stream, clear the retry timer, detach from `inner` and drop
   * listeners (no SHUTDOWN is reported: the policy gave this subchannel up). Does not release `inner`.
   * Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.inner.removeStateListener(this.onInnerState);
    this.stopChecking();
    this.listeners.clear();
  }

  private readonly onInnerState: SubchannelStateListener = (_subchannel, _previous, next, error) => {
    if (this.disposed) return;
    if (next === READY) {
      this.checkDisabled = false;
      this.backoff.reset();
      this.startWatch();
      return;
    }
    // Lost, failed or shut down: the health of the old connection no longer matters.
    this.stopChecking();
    this.backoff.reset();
    this.setState(next, error);
    if (next === SHUTDOWN) this.listeners.clear();
  };

  private startWatch(): void {
    this.watchTiming = this.backoff.nextAttempt();
    this.watchStartedAtMs = this.clock.now();
    this.watchAnswered = false;
    this.healthError = undefined;
    this.setState(CONNECTING, undefined);
    // A listener may have disposed us, or the connection may have gone.
    if (this.disposed || this.inner.getState() !== READY || this.watch !== undefined) return;
    const watch: HealthWatch = startHealthWatch(this.inner, this.serviceName, {
      onStatus: (servingStatus) => {
        if (this.watch !== watch) return;
        this.onServingStatus(servingStatus);
      },
      onEnd: (status) => {
        if (this.watch !== watch) return;
        this.watch = undefined;
        this.onWatchEnd(status);
      },
    });
    this.watch = watch;
  }

  private onServingStatus(servingStatus: number): void {
    if (!this.watchAnswered) {
      this.watchAnswered = true;
      this.backoff.reset();
    }
    if (servingStatus === ServingStatus.SERVING) {
      this.healthError = undefined;
      this.setState(READY, undefined);
      return;
    }
    const error = `health check of ${this.key} (service "${this.serviceName}"): ${servingStatusName(servingStatus)}`;
    this.healthError = error;
    this.setState(TRANSIENT_FAILURE, error);
  }

  private onWatchEnd(status: StatusObject): void {
    if (status.code === grpcStatus.UNIMPLEMENTED) {
      // A17: no health service on the server means "healthy"; do not retry on this connection.
      this.checkDisabled = true;
      this.healthError = undefined;
      this.setState(READY, undefined);
      return;
    }
    const delayMs = this.watchAnswered
      ? 0
      : Math.max(0, this.watchStartedAtMs + (this.watchTiming?.backoffMs ?? 0) - this.clock.now());
    const error = `health check of ${this.key} (service "${this.serviceName}") failed: ` +
      `${grpcStatus[status.code] ?? status.code}: ${status.details}`;
    this.healthError = error;
    this.setState(TRANSIENT_FAILURE, error);
    if (this.disposed || this.inner.getState() !== READY || this.watch !== undefined || this.retryTimer !== undefined) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.disposed && this.inner.getState() === READY && this.watch === undefined && !this.checkDisabled) {
        this.startWatch();
      }
    }, delayMs);
  }

  private stopChecking(): void {
    const watch = this.watch;
    this.watch = undefined;
    watch?.cancel();
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.healthError = undefined;
  }

  private setState(next: ConnectivityState, error: string | undefined): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    notifyStateListeners(this.listeners, this, previous, next, error);
  }
}
