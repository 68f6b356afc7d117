import type { MeterProviderLike } from 'switchyard';
import type { DemoBackend } from './backends';
import { openDemoClient, type DemoClient } from './channel';
import { scheduleCrashAndRestart, type Chaos } from './chaos';
import { membershipLogger, type Discovery } from './discovery';
import { runLoad, type LoadRun } from './load';
import { startProgress } from './progress';
import type { RunSummary } from './report';

/** One of the loads the demo drives, each on its own channel. */
export interface LoadSpec {
  /** Shown on the progress line and in the comparison table, e.g. `with retries`. */
  label: string;
  /** Service config JSON object for this load's channel. */
  serviceConfig: object;
  /** Where this load's channel records its OpenTelemetry metrics (`--metrics-port`), if anywhere. */
  meterProvider?: MeterProviderLike;
}

/** What the loads share. */
export interface RunSpec {
  discovery: Discovery;
  /** Local backends (empty with `--target`); the first one is crashed and restarted during the run. */
  backends: readonly DemoBackend[];
  /** Run length in ms. */
  durationMs: number;
  /** Calls each load keeps in flight. */
  concurrency: number;
  /** The service config's method timeout in ms (sizes the latency histograms). */
  timeoutMs: number;
  /** Stops the run early. */
  signal: AbortSignal;
}

/**
 * What every demo call sends: 5 ms of simulated server work, so a crash catches calls inside the
 * handler (no response headers sent yet: retryable under gRFC A6) rather than only calls whose response
 * was half written (headers received, so committed: never retried).
 */
const DEMO_REQUEST = { message: 'demo', delay_ms: 5 };

/** Live retry counters for the progress line; only a channel with a retry or hedging policy has any. */
function liveStats(channel: DemoClient['channel']): () => string {
  return () => {
    const s = channel.stats();
    if (s.tokens === undefined) return '';
    const hedges = s.hedges > 0 ? ` hedges ${s.hedges}` : '';
    return `(retries ${s.retries}${hedges} throttled ${s.throttled} tokens ${s.tokens.toFixed(0)})`;
  };
}

/**
 * Drives every load at the same time, each on a fresh switchyard channel with `concurrency` calls in
 * flight, so they see the same backends, the same crash and restart of the first backend and the same
 * machine noise: the fairest side-by-side comparison. Shows a live progress line and, as event lines,
 * the crash, the restart and resolver membership changes. Closes the channels before resolving.
 * @returns one summary per load, in order: the client's counters and the channel's `stats()`.
 *   Never rejects for failed calls; rejects only when a channel cannot be created.
 */
export async function runSideBySide(loads: readonly LoadSpec[], spec: RunSpec): Promise<RunSummary[]> {
  const clients: DemoClient[] = [];
  let chaos: Chaos | undefined;
  try {
    for (const load of loads) {
      clients.push(openDemoClient(spec.discovery.target, load.serviceConfig, spec.discovery.resolverOptions, load.meterProvider));
    }
    const runs: LoadRun[] = clients.map((demo) =>
      runLoad({
        client: demo.client,
        request: DEMO_REQUEST,
        durationMs: spec.durationMs,
        concurrency: spec.concurrency,
        deadlineMs: undefined,
        maxLatencyMs: 2 * spec.timeoutMs,
        signal: spec.signal,
      }),
    );
    const startedAt = Date.now();
    const progress = startProgress({
      runs: loads.map((load, i) => ({ label: load.label, counters: runs[i]!.counters, extra: liveStats(clients[i]!.channel) })),
      startedAt,
      backendIds: spec.backends.map((b) => b.process.id),
    });
    // Membership as the first channel's resolver sees it; the others see the same.
    const names = new Map(spec.backends.map((b) => [b.process.address, b.process.id]));
    clients[0]?.channel.events.on('resolution', membershipLogger(names, progress.event));
    const victim = spec.backends[0];
    if (victim !== undefined) chaos = scheduleCrashAndRestart(victim, spec.durationMs, progress.event, spec.discovery);
    const counters = await Promise.all(runs.map((r) => r.done));
    const elapsedMs = Date.now() - startedAt;
    progress.stop();
    await chaos?.settle();
    chaos = undefined;
    return loads.map((load, i) => ({ label: load.label, counters: counters[i]!, elapsedMs, stats: clients[i]!.channel.stats() }));
  } finally {
    await chaos?.settle();
    for (const demo of clients) demo.close();
  }
}
