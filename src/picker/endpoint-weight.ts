import type { OrcaLoadReport } from './orca-load-report';

/** The timing rules of gRFC A58 an endpoint weight is read with. Durations in ms. */
export interface WeightRules {
  readonly blackoutPeriodMs: number;
  readonly weightExpirationPeriodMs: number;
  readonly errorUtilizationPenalty: number;
}

/** One endpoint's weight as gRFC A58 "Subchannel Weights" tracks it. */
export interface EndpointWeight {
  weight: number;
  /** When the current run of non-empty reports began; `Infinity` when unset. */
  nonEmptySince: number;
  /** When the last non-empty report arrived; `-Infinity` before any. */
  lastUpdated: number;
}

/** A weight with no report yet. */
export function emptyWeight(): EndpointWeight {
  return { weight: 0, nonEmptySince: Number.POSITIVE_INFINITY, lastUpdated: Number.NEGATIVE_INFINITY };
}

/**
 * Fold a load report into the weight (gRFC A58 `UpdateWeight`): utilization is
 * `application_utilization` when positive, else `cpu_utilization`; with a positive utilization and
 * qps it is raised by `eps / qps × errorUtilizationPenalty`; weight = `qps / utilization`. A report
 * that yields no weight (no qps, no utilization) changes nothing.
 * @param now clock ms.
 */
export function updateWeight(weight: EndpointWeight, report: Readonly<OrcaLoadReport>, now: number, penalty: number): void {
  let utilization = report.applicationUtilization > 0 ? report.applicationUtilization : report.cpuUtilization;
  const qps = report.rpsFractional;
  if (utilization > 0 && qps > 0) utilization += (report.eps / qps) * penalty;
  const next = utilization > 0 ? qps / utilization : 0;
  if (!(next > 0) || !Number.isFinite(next)) return;
  if (weight.nonEmptySince === Number.POSITIVE_INFINITY) weight.nonEmptySince = now;
  weight.lastUpdated = now;
  weight.weight = next;
}

/**
 * The weight to schedule with now (gRFC A58 `GetWeight`): 0 ("unknown", the scheduler gives it the
 * mean) once no report came for `weightExpirationPeriod` (which also restarts the blackout), and
 * during `blackoutPeriod` after the first report of a run.
 */
export function currentWeight(weight: EndpointWeight, now: number, rules: WeightRules): number {
  if (now - weight.lastUpdated >= rules.weightExpirationPeriodMs) {
    weight.nonEmptySince = Number.POSITIVE_INFINITY;
    return 0;
  }
  if (rules.blackoutPeriodMs > 0 && now - weight.nonEmptySince < rules.blackoutPeriodMs) return 0;
  return weight.weight;
}

/**
 * How gRFC A78's WRR metrics classify a weight at a scheduler update: `not-yet-usable` (no report yet,
 * or within the blackout period), `stale` (the latest report is older than the expiration period) or
 * `usable`. Reads only; call it before {@link currentWeight}, which resets an expired weight.
 * @param now clock ms.
 */
export function weightUsability(weight: Readonly<EndpointWeight>, now: number, rules: WeightRules): 'usable' | 'not-yet-usable' | 'stale' {
  if (weight.lastUpdated === Number.NEGATIVE_INFINITY) return 'not-yet-usable';
  if (now - weight.lastUpdated >= rules.weightExpirationPeriodMs) return 'stale';
  if (rules.blackoutPeriodMs > 0 && now - weight.nonEmptySince < rules.blackoutPeriodMs) return 'not-yet-usable';
  return 'usable';
}

/** The endpoint became READY (again): its next report starts a new blackout (gRFC A58 `OnSubchannelBecomesReady`). */
export function resetBlackout(weight: EndpointWeight): void {
  weight.nonEmptySince = Number.POSITIVE_INFINITY;
}
