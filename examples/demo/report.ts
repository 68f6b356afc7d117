import * as grpc from '@grpc/grpc-js';
import type { ChannelStats } from 'switchyard';
import type { BackendTotals } from './backends';
import { latencyQuantile, type LoadCounters } from './load';

/** One finished load run, as the report shows it. */
export interface RunSummary {
  /** Shown in the heading, e.g. `switchyard, round_robin`. */
  label: string;
  /** The run's counters. */
  counters: LoadCounters;
  /** Wall-clock length of the run in ms. */
  elapsedMs: number;
  /** The run's channel counters at the end of the run. */
  stats: ChannelStats;
}

/** Name of a `grpc.status` code, e.g. `UNAVAILABLE`. */
export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? `code ${code}`;
}

/** Renders rows as a left-aligned text table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(render)].join('\n');
}

function percent(part: number, whole: number, digits = 1): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : digits)}%`;
}

/** How to read {@link backendTable}; print it under the table. */
export const BACKEND_TABLE_NOTE = [
  'served / errors / cancelled: counted by each backend (over IPC, summed over restarts and over both loads);',
  'ok replies: counted by each load\'s client from the backend id in every reply (share of that load\'s OK calls).',
].join('\n');

/**
 * The per-backend table: what each backend served, failed and saw cancelled by its own count (over IPC,
 * summed over restarts) next to how many OK replies each load got from it. Backends a client heard from
 * but that were not started locally (`--target`) get the client's columns only. See {@link BACKEND_TABLE_NOTE}.
 */
export function backendTable(runs: readonly RunSummary[], backends: readonly BackendTotals[]): string {
  const ids = [...backends.map((b) => b.id)];
  for (const run of runs) for (const id of run.counters.okByBackend.keys()) if (!ids.includes(id)) ids.push(id);
  const rows = ids.sort().map((id) => {
    const b = backends.find((x) => x.id === id);
    const server = (n: (s: NonNullable<BackendTotals['server']>) => number): string => (b?.server === undefined ? '-' : String(n(b.server)));
    return [
      id,
      b?.address ?? '-',
      server((s) => s.calls),
      server((s) => s.errors),
      server((s) => s.cancelled),
      ...runs.map((run) => {
        const ok = run.counters.okByBackend.get(id) ?? 0;
        return `${ok} (${percent(ok, run.counters.ok)})`;
      }),
    ];
  });
  const header = ['backend', 'address', 'served', 'errors', 'cancelled', ...runs.map((r) => `ok replies, ${r.label}`)];
  return table(header, rows);
}

/**
 * The totals of one or more runs side by side, one column per run: how the calls ended (counted by the
 * client), switchyard's own counters from `channel.stats()` (retries, hedges, throttled retries,
 * deadline exceeded, …), throughput and latency of the successful calls.
 */
export function comparisonTable(runs: readonly RunSummary[]): string {
  const finished = runs.map((r) => r.counters.ok + r.counters.failed);
  const row = (name: string, value: (r: RunSummary, i: number) => string): string[] => [name, ...runs.map(value)];
  const rows: string[][] = [
    row('calls', (_, i) => String(finished[i])),
    row('succeeded', (r) => String(r.counters.ok)),
    row('failed', (r) => String(r.counters.failed)),
  ];
  const codes = new Set<number>();
  for (const r of runs) r.counters.byCode.forEach((n, code) => n > 0 && code !== grpc.status.OK && codes.add(code));
  for (const code of [...codes].sort((a, b) => a - b)) {
    rows.push(row(`  ${statusName(code)}`, (r) => String(r.counters.byCode[code] ?? 0)));
  }
  rows.push(
    row('success rate', (r, i) => percent(r.counters.ok, finished[i]!, 2)),
    row('attempts', (r) => String(r.stats.attempts)),
    row('retries', (r) => String(r.stats.retries)),
    row('hedges', (r) => String(r.stats.hedges)),
    row('transparent retries', (r) => String(r.stats.transparentRetries)),
    row('throttled retries', (r) => String(r.stats.throttled)),
    row('deadline exceeded', (r) => String(r.stats.deadlineExceeded)),
    row('calls/s', (r, i) => (finished[i]! / Math.max(1e-3, r.elapsedMs / 1000)).toFixed(0)),
    row('latency p50 / p99 (ok)', (r) => {
      const p50 = latencyQuantile(r.counters.okLatencyMs, 0.5);
      const p99 = latencyQuantile(r.counters.okLatencyMs, 0.99);
      return p50 === undefined || p99 === undefined ? '-' : `${p50} / ${p99} ms`;
    }),
  );
  return [
    table(['', ...runs.map((r) => r.label)], rows),
    'calls / succeeded / failed / latency: counted by the client; attempts … deadline exceeded: channel.stats().',
    'Each load is a closed loop, so time a call spends in retry backoff also lowers that load\'s calls/s.',
  ].join('\n');
}
