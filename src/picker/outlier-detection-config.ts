import { ConfigError } from '../errors';
import { fieldPath } from '../json/path';
import { selectChildPolicy, type ChildPolicyChoice } from './child-policy';
import { PolicyConfigReader } from './policy-config';

/** `success_rate_ejection` (gRFC A50). */
export interface SuccessRateEjection {
  /** The ejection threshold is `mean − stdev × stdevFactor / 1000`. */
  readonly stdevFactor: number;
  /** Percent chance, in [0, 100], that an outlier is actually ejected. */
  readonly enforcementPercentage: number;
  /** Endpoints with `requestVolume` calls in the interval needed before any is judged. */
  readonly minimumHosts: number;
  /** Calls in the interval an endpoint needs to be judged. */
  readonly requestVolume: number;
}

/** `failure_percentage_ejection` (gRFC A50). */
export interface FailurePercentageEjection {
  /** Failure percentage, in [0, 100], above which an endpoint is ejected. */
  readonly threshold: number;
  readonly enforcementPercentage: number;
  readonly minimumHosts: number;
  readonly requestVolume: number;
}

/** `outlier_detection`'s parsed config (gRFC A50 `OutlierDetectionLoadBalancingConfig`). Durations in ms. */
export interface OutlierDetectionConfig {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  /** Already `max(baseEjectionTime, maxEjectionTime)`, as A50 applies it. */
  readonly maxEjectionTimeMs: number;
  /** At most this percent of the endpoints are ejected at once, in [0, 100]. */
  readonly maxEjectionPercent: number;
  readonly successRateEjection: SuccessRateEjection | undefined;
  readonly failurePercentageEjection: FailurePercentageEjection | undefined;
  readonly childPolicy: ChildPolicyChoice;
}

const UINT32_MAX = 4_294_967_295;
const uint32 = { integer: true, min: 0, max: UINT32_MAX };
const percent = { integer: true, min: 0, max: 100 };

/**
 * Validate `outlier_detection`'s config (gRFC A50), read as proto3 JSON: camelCase or snake_case field
 * names, durations as `"10s"` or `{seconds, nanos}`, so a grpc-js 1.14 config (`child_policy`,
 * `base_ejection_time: {seconds: 30}`) moves over unchanged. Defaults: interval 10 s, base ejection
 * 30 s, max ejection 300 s, 10 %; success rate 1900 / 100 / 5 / 100; failure percentage 85 / 100 / 5 / 50.
 * `childPolicy` is required and selected like `loadBalancingConfig` (first registered entry).
 * @throws ConfigError at the offending field: a malformed or negative duration, a zero interval, a
 *   percentage above 100, a negative or fractional count, a missing or unsupported `childPolicy`.
 */
export function parseOutlierDetectionConfig(json: unknown, path: string): OutlierDetectionConfig {
  const reader = new PolicyConfigReader(json, path);
  const intervalMs = reader.durationMs('interval', 10_000, 0.000001);
  const baseEjectionTimeMs = reader.durationMs('baseEjectionTime', 30_000);
  const maxEjectionTimeMs = Math.max(baseEjectionTimeMs, reader.durationMs('maxEjectionTime', 300_000));
  const maxEjectionPercent = reader.number('maxEjectionPercent', 10, percent);
  const sr = reader.message('successRateEjection');
  const fp = reader.message('failurePercentageEjection');
  const child = reader.field('childPolicy');
  if (child === undefined) throw new ConfigError(fieldPath(path, 'childPolicy'), 'is required: a list such as [{"round_robin": {}}]');
  return Object.freeze({
    intervalMs,
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionPercent,
    successRateEjection:
      sr &&
      Object.freeze({
        stdevFactor: sr.number('stdevFactor', 1900, uint32),
        enforcementPercentage: sr.number('enforcementPercentage', 100, percent),
        minimumHosts: sr.number('minimumHosts', 5, uint32),
        requestVolume: sr.number('requestVolume', 100, uint32),
      }),
    failurePercentageEjection:
      fp &&
      Object.freeze({
        threshold: fp.number('threshold', 85, percent),
        enforcementPercentage: fp.number('enforcementPercentage', 100, percent),
        minimumHosts: fp.number('minimumHosts', 5, uint32),
        requestVolume: fp.number('requestVolume', 50, uint32),
      }),
    childPolicy: selectChildPolicy(child.value, child.path),
  });
}
