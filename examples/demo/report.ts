import * as grpc from '@grpc/grpc-js';
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

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

/**
 * The per-backend table: what each backend served and failed by its own count (over IPC, summed over
 * restarts) next to how many OK replies the client got from it. Backends the client heard from but that
 * were not started locally (`--target`) get a row with the client's view only.
 */
export function backendTable(run: RunSummary, backends: readonly BackendTotals[]): string {
  const ids = [...backends.map((b) => b.id)];
  for (const id of run.counters.okByBackend.keys()) if (!ids.includes(id)) ids.push(id);
  const rows = ids.sort().map((id) => {
    const b = backends.find((x) => x.id === id);
    const okReplies = run.counters.okByBackend.get(id) ?? 0;
    return [
      id,
      b?.address ?? '-',
      b?.server === undefined ? '-' : String(b.server.calls),
      b?.server === undefined ? '-' : String(b.server.errors),
      b?.server === undefined ? '-' : String(b.server.cancelled),
      String(okReplies),
      percent(okReplies, run.counters.ok),
    ];
  });
  return [
    table(['backend', 'address', 'served', 'errors', 'cancelled', 'ok replies', 'share'], rows),
    'served / errors / cancelled: counted by the backend itself (over IPC, summed over restarts);',
    'ok replies / share: counted by the client from each reply\'s backend id.',
  ].join('\n');
}

/** The totals: calls, successes, failures by status name, throughput and latency. */
export function totalsTable(run: RunSummary): string {
  const c = run.counters;
  const finished = c.ok + c.failed;
  const rows: string[][] = [
    ['calls', String(finished), ''],
    ['succeeded', String(c.ok), percent(c.ok, finished)],
    ['failed', String(c.failed), percent(c.failed, finished)],
  ];
  c.byCode.forEach((n, code) => {
    if (code !== grpc.status.OK && n > 0) rows.push([`  ${statusName(code)}`, String(n), percent(n, finished)]);
  });
  const p50 = latencyQuantile(c.okLatencyMs, 0.5);
  const p99 = latencyQuantile(c.okLatencyMs, 0.99);
  rows.push(['calls/s', (finished / Math.max(1e-3, run.elapsedMs / 1000)).toFixed(0), '']);
  if (p50 !== undefined && p99 !== undefined) rows.push(['latency p50 / p99 (ok)', `${p50} / ${p99} ms`, '']);
  return table(['total', 'count', 'share'], rows);
}

/** The whole end-of-run report for one run. */
export function renderReport(run: RunSummary, backends: readonly BackendTotals[]): string {
  return [`\n== ${run.label} ==`, '', backendTable(run, backends), '', totalsTable(run), ''].join('\n');
}
