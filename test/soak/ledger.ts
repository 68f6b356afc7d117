/**
 * The soak's books: what the client asked for and got, call by call, and what the backends executed,
 * attempt by attempt, in preallocated typed arrays (so the books themselves do not grow the heap the
 * soak measures). {@link reconcile} compares them with the channel's counters and events.
 */
import type { AttemptEvent, ChannelStats } from '../../src/index';

/** Attempt numbers a backend can report, as bits of one byte: attempt n (0-based) is bit n. */
const MAX_TRACKED_ATTEMPTS = 8;

export interface Ledger {
  /** Calls issued so far; call ids are 0..issued-1. */
  issued: number;
  /** Calls that ended. */
  completed: number;
  /** Per call: final status code + 1 (0 = still running). */
  readonly outcome: Int16Array;
  /** Per call, when OK: the `grpc-previous-rpc-attempts` of the attempt that answered (-1 otherwise). */
  readonly okAttempt: Int8Array;
  /** Per call, when OK: the index of the backend that answered. */
  readonly okBackend: Int8Array;
  /** Per call: bit n set when a backend executed attempt n. */
  readonly seen: Uint8Array;
  /** Attempts a backend executed twice (same call, same attempt number). */
  duplicates: number;
  /** Ledger entries with a call id the client never issued, or an attempt number out of range. */
  unknown: number;
  /** Handler invocations per backend, from the ledgers. */
  readonly executed: number[];
  /** Handler invocations per backend, from the backends' own counters. */
  readonly counted: number[];
}

export function createLedger(maxCalls: number, backends: number): Ledger {
  return {
    issued: 0,
    completed: 0,
    outcome: new Int16Array(maxCalls),
    okAttempt: new Int8Array(maxCalls).fill(-1),
    okBackend: new Int8Array(maxCalls).fill(-1),
    seen: new Uint8Array(maxCalls),
    duplicates: 0,
    unknown: 0,
    executed: new Array<number>(backends).fill(0),
    counted: new Array<number>(backends).fill(0),
  };
}

/** Record a backend's ledger reply (flattened [id, attempt] pairs) and its counter delta. */
export function recordExecuted(ledger: Ledger, backend: number, entries: readonly number[], counted: number): void {
  ledger.counted[backend]! += counted;
  for (let i = 0; i < entries.length; i += 2) {
    const id = entries[i]!;
    const attempt = entries[i + 1]!;
    ledger.executed[backend]!++;
    if (!(id >= 0 && id < ledger.issued) || !(attempt >= 0 && attempt < MAX_TRACKED_ATTEMPTS)) {
      ledger.unknown++;
      continue;
    }
    const bit = 1 << attempt;
    if (ledger.seen[id]! & bit) ledger.duplicates++;
    ledger.seen[id]! |= bit;
  }
}

/** Counts of the channel's `attempt` events, by what became of the attempt. */
export interface AttemptTally {
  events: number;
  retries: number;
  transparent: number;
  hedges: number;
  /** Picks that failed locally (no endpoint). */
  failedPicks: number;
  /** Per backend: attempts the backend answered (OK, or a failure with its id in the details). */
  readonly answered: number[];
  /** Per backend: attempts cut off without a backend's answer (reset, cancelled, deadline). */
  readonly cut: number[];
}

export function createTally(backends: number): AttemptTally {
  return {
    events: 0, retries: 0, transparent: 0, hedges: 0, failedPicks: 0,
    answered: new Array<number>(backends).fill(0),
    cut: new Array<number>(backends).fill(0),
  };
}

/** Count one `attempt` event; `backendOf` maps an endpoint (`host:port`) to a backend index. */
export function tallyAttempt(tally: AttemptTally, event: AttemptEvent, backendOf: (endpoint: string) => number | undefined): void {
  tally.events++;
  if (event.kind === 'retry') tally.retries++;
  else if (event.kind === 'transparent') tally.transparent++;
  else if (event.kind === 'hedge') tally.hedges++;
  const backend = backendOf(event.endpoint);
  if (backend === undefined) {
    tally.failedPicks++;
    return;
  }
  // The echo service prefixes every failure it sends with its id ("b1: requested failure ...").
  if (event.code === 0 || event.details.startsWith(`b${backend}: `)) tally.answered[backend]!++;
  else tally.cut[backend]!++;
}

/** Everything {@link reconcile} compares. */
export interface Books {
  readonly ledger: Ledger;
  readonly tally: AttemptTally;
  readonly stats: ChannelStats;
  readonly throttledEvents: number;
  readonly maxAttempts: number;
}

/**
 * The soak's exact checks; returns the violations (empty when the books balance).
 *
 * - Calls: every issued call ended once; the channel counted exactly the calls issued, and as many
 *   successes as the client saw.
 * - Attempts: one `attempt` event per attempt the channel counted, by kind; one `throttled` event per
 *   throttled retry.
 * - Backends: no attempt executed twice, none unknown, none numbered past `maxAttempts`; every OK reply
 *   came from an attempt its backend recorded; ledgers and backend counters agree.
 * - Client vs backends, per backend: what it executed = what it answered + the attempts a crash cut off
 *   after execution, which can only be some of the attempts cut off (answered ≤ executed ≤ answered + cut).
 */
export function reconcile(books: Books): string[] {
  const { ledger, tally, stats, maxAttempts } = books;
  const problems: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  check(ledger.completed === ledger.issued, `calls: ${ledger.issued} issued, ${ledger.completed} ended`);
  check(stats.calls === ledger.issued, `calls: channel counted ${stats.calls}, client issued ${ledger.issued}`);
  check(stats.succeeded + stats.failed === stats.calls, `calls: ${stats.succeeded} OK + ${stats.failed} failed != ${stats.calls}`);
  let ok = 0;
  let pending = 0;
  let okNotExecuted = 0;
  let pastMax = 0;
  const pastMaxMask = 0xff & ~((1 << maxAttempts) - 1);
  for (let id = 0; id < ledger.issued; id++) {
    const outcome = ledger.outcome[id]!;
    if (outcome === 0) pending++;
    if (outcome === 1) {
      ok++;
      if (!(ledger.seen[id]! & (1 << ledger.okAttempt[id]!))) okNotExecuted++;
    }
    if (ledger.seen[id]! & pastMaxMask) pastMax++;
  }
  check(pending === 0, `calls: ${pending} never ended`);
  check(ok === stats.succeeded, `calls: client saw ${ok} OK, channel counted ${stats.succeeded}`);
  check(okNotExecuted === 0, `backends: ${okNotExecuted} OK replies from attempts no backend recorded`);
  check(pastMax === 0, `backends: ${pastMax} calls had an attempt numbered past maxAttempts (${maxAttempts})`);
  check(ledger.duplicates === 0, `backends: ${ledger.duplicates} attempts executed twice`);
  check(ledger.unknown === 0, `backends: ${ledger.unknown} ledger entries for unknown calls`);
  check(tally.events === stats.attempts, `attempts: ${tally.events} attempt events, channel counted ${stats.attempts}`);
  check(tally.retries === stats.retries, `retries: ${tally.retries} retry attempt events, channel counted ${stats.retries}`);
  check(tally.transparent === stats.transparentRetries, `transparent retries: ${tally.transparent} events, counted ${stats.transparentRetries}`);
  check(tally.hedges === stats.hedges, `hedges: ${tally.hedges} events, counted ${stats.hedges}`);
  check(books.throttledEvents === stats.throttled, `throttled: ${books.throttledEvents} events, counted ${stats.throttled}`);
  ledger.executed.forEach((executed, b) => {
    check(executed === ledger.counted[b], `b${b}: ledger has ${executed} attempts, its counters ${ledger.counted[b]}`);
    const answered = tally.answered[b]!;
    const cut = tally.cut[b]!;
    check(answered <= executed && executed <= answered + cut,
      `b${b}: executed ${executed}, but the client saw ${answered} answered and ${cut} cut off`);
  });
  return problems;
}
