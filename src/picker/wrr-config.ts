import { PolicyConfigReader } from './policy-config';
import type { WeightRules } from './endpoint-weight';

/** `weighted_round_robin`'s parsed config (gRFC A58 `WeightedRoundRobinLbConfig`). Durations in ms. */
export interface WeightedRoundRobinConfig extends WeightRules {
  /** Take weights from out-of-band ORCA streams instead of per-call trailers. */
  readonly enableOobLoadReport: boolean;
  /** Reporting interval requested on the OOB stream. */
  readonly oobReportingPeriodMs: number;
  /** How often the scheduler is rebuilt from the current weights (at least 100 ms). */
  readonly weightUpdatePeriodMs: number;
}

/** gRFC A58 defaults. */
export const WRR_DEFAULTS: WeightedRoundRobinConfig = Object.freeze({
  enableOobLoadReport: false,
  oobReportingPeriodMs: 10_000,
  blackoutPeriodMs: 10_000,
  weightExpirationPeriodMs: 180_000,
  weightUpdatePeriodMs: 1_000,
  errorUtilizationPenalty: 1,
});

/** gRFC A58: "Values less than 100ms are capped at 100ms." */
const MIN_WEIGHT_UPDATE_PERIOD_MS = 100;

/**
 * Validate `weighted_round_robin`'s config (gRFC A58), read as proto3 JSON: `enableOobLoadReport`,
 * `oobReportingPeriod`, `blackoutPeriod`, `weightExpirationPeriod`, `weightUpdatePeriod`,
 * `errorUtilizationPenalty`, each also under its snake_case name, durations as `"10s"` or
 * `{seconds, nanos}` — so grpc-js 1.14's form (including its `oob_load_reporting_period`) and grpc-go's
 * both work.
 * @throws ConfigError at the offending field: a non-boolean flag, a malformed or negative duration, a
 *   negative or non-numeric penalty.
 */
export function parseWeightedRoundRobinConfig(json: unknown, path: string): WeightedRoundRobinConfig {
  const reader = new PolicyConfigReader(json, path);
  const d = WRR_DEFAULTS;
  return Object.freeze({
    enableOobLoadReport: reader.boolean('enableOobLoadReport', d.enableOobLoadReport),
    // grpc-js 1.14 spells it `oob_load_reporting_period`; take that when A58's name is absent.
    oobReportingPeriodMs: reader.durationMs(
      reader.field('oobReportingPeriod') === undefined ? 'oobLoadReportingPeriod' : 'oobReportingPeriod',
      d.oobReportingPeriodMs,
    ),
    blackoutPeriodMs: reader.durationMs('blackoutPeriod', d.blackoutPeriodMs),
    weightExpirationPeriodMs: reader.durationMs('weightExpirationPeriod', d.weightExpirationPeriodMs),
    weightUpdatePeriodMs: Math.max(MIN_WEIGHT_UPDATE_PERIOD_MS, reader.durationMs('weightUpdatePeriod', d.weightUpdatePeriodMs)),
    errorUtilizationPenalty: reader.number('errorUtilizationPenalty', d.errorUtilizationPenalty, { min: 0 }),
  });
}
