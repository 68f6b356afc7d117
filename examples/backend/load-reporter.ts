import * as grpc from '@grpc/grpc-js';

/** What a call's ORCA recorder offers (grpc-js 1.14 `PerRequestMetricRecorder`, from `call.getMetricsRecorder()`). */
export interface CallMetricsRecorder {
  recordApplicationUtilizationMetric(value: number): void;
  recordQpsMetric(value: number): void;
  recordEpsMetric(value: number): void;
}

/** Options of {@link createLoadReporter}. */
export interface LoadReporterOptions {
  /**
   * Calls the backend can serve at once: utilization = average calls in progress over the last second
   * ÷ capacity (Little's law: a backend answering 10× slower at the same rate reports 10× the load).
   * Default 64.
   */
  capacity?: number;
  /**
   * Also report per call. Costly with grpc-js 1.14 servers: they load the ORCA `.proto` again for every
   * per-call report (its `loadOrcaProto` never caches), about 10 ms of CPU per call. Default false.
   */
  perCall?: boolean;
}

/**
 * The echo backend's ORCA load reports (gRFC A51), through grpc-js 1.14's own support: out of band with
 * a `ServerMetricRecorder` (the `xds.service.orca.v3.OpenRcaService` it adds to the server), refreshed
 * every 100 ms, and optionally per call with the server option `grpc.server_call_metric_recording` and
 * `call.getMetricsRecorder()` (the `endpoint-load-metrics-bin` trailer).
 *
 * Reported: `application_utilization` (see {@link LoadReporterOptions.capacity}), `rps_fractional`
 * (calls ended in the last second) and `eps` (of those, failed) — what `weighted_round_robin` needs
 * (gRFC A58).
 */
export interface LoadReporter {
  /** The grpc-js server options (per-call reports on, if asked for). */
  readonly serverOptions: grpc.ServerOptions;
  /** Add the out-of-band ORCA service to `server` (before it starts). */
  addToServer(server: grpc.Server): void;
  /** A call ended after `elapsedMs`: count it and write the current figures into its recorder. */
  callEnded(recorder: CallMetricsRecorder, elapsedMs: number, failed: boolean): void;
  /** Stop the out-of-band refresh timer. */
  close(): void;
}

const WINDOW_MS = 1_000;

/** Create a {@link LoadReporter} measuring over a sliding one-second window (two half-second buckets). */
export function createLoadReporter(options: LoadReporterOptions = {}): LoadReporter {
  const capacity = options.capacity ?? 64;
  const oob = new grpc.ServerMetricRecorder();
  // Two buckets of half a window: [calls, errors, busy ms] of the current and the previous half.
  let current = [0, 0, 0];
  let previous = [0, 0, 0];
  let bucketStart = Date.now();

  function rotate(now: number): void {
    while (now - bucketStart >= WINDOW_MS / 2) {
      previous = current;
      current = [0, 0, 0];
      bucketStart += WINDOW_MS / 2;
      if (now - bucketStart >= WINDOW_MS) bucketStart = now;
    }
  }

  function figures(): { utilization: number; qps: number; eps: number } {
    rotate(Date.now());
    const span = WINDOW_MS / 2 + (Date.now() - bucketStart);
    const seconds = span / 1000;
    const calls = current[0]! + previous[0]!;
    return {
      utilization: (current[2]! + previous[2]!) / span / capacity,
      qps: calls / seconds,
      eps: (current[1]! + previous[1]!) / seconds,
    };
  }

  const timer = setInterval(() => {
    const { utilization, qps, eps } = figures();
    oob.setApplicationUtilizationMetric(utilization);
    oob.setQpsMetric(qps);
    oob.setEpsMetric(eps);
  }, 100);
  timer.unref();

  return {
    serverOptions: options.perCall === true ? { 'grpc.server_call_metric_recording': 1 } : {},
    addToServer: (server) => oob.addToServer(server),
    callEnded(recorder, elapsedMs, failed) {
      rotate(Date.now());
      current[0]!++;
      if (failed) current[1]!++;
      current[2]! += elapsedMs;
      const { utilization, qps, eps } = figures();
      recorder.recordApplicationUtilizationMetric(utilization);
      recorder.recordQpsMetric(qps);
      recorder.recordEpsMetric(eps);
    },
    close: () => clearInterval(timer),
  };
}
