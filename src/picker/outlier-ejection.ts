import type { OutlierDetectionConfig } from './outlier-detection-config';

/** One endpoint's call counters and ejection state (gRFC A50 "Call Counter", map entry). */
export interface OutlierEndpoint {
  /** The active bucket: calls that ended in the current interval. */
  successes: number;
  failures: number;
  /** The inactive bucket: the interval that just ended, which the algorithms judge. */
  lastSuccesses: number;
  lastFailures: number;
  /** Clock ms of the interval that ejected it; undefined when not ejected. */
  ejectedAt: number | undefined;
  /** Ejection time multiplier: +1 per ejection, −1 per interval spent not ejected. */
  multiplier: number;
}

/** A fresh entry. */
export function outlierEndpoint(): OutlierEndpoint {
  return { successes: 0, failures: 0, lastSuccesses: 0, lastFailures: 0, ejectedAt: undefined, multiplier: 0 };
}

/** What one interval does to the endpoints; callbacks apply an (un)ejection to the subchannels. */
export interface EjectionActions {
  eject(endpoint: OutlierEndpoint): void;
  uneject(endpoint: OutlierEndpoint): void;
  /** Uniform random numbers in [0, 1) for the enforcement percentage. */
  random(): number;
}

/**
 * One run of the outlier-detection timer (gRFC A50 "Outlier Detection Behavior", steps 2–5): swap the
 * counters' buckets; run the success-rate algorithm, then the failure-percentage algorithm, each if
 * configured; then lower the multiplier of every endpoint not ejected, and un-eject every endpoint whose
 * time is up: `now ≥ ejectedAt + min(baseEjectionTime × multiplier, max(baseEjectionTime,
 * maxEjectionTime))`. O(endpoints).
 * @param now the timer's start time (clock ms), recorded as the ejection time of this run's ejections.
 */
export function runOutlierDetection(
  endpoints: readonly OutlierEndpoint[],
  config: OutlierDetectionConfig,
  now: number,
  actions: EjectionActions,
): void {
  for (const e of endpoints) {
    e.lastSuccesses = e.successes;
    e.lastFailures = e.failures;
    e.successes = 0;
    e.failures = 0;
  }
  let ejected = 0;
  for (const e of endpoints) if (e.ejectedAt !== undefined) ejected++;
  const eject = (e: OutlierEndpoint, enforcementPercentage: number): void => {
    if (Math.floor(actions.random() * 100) >= enforcementPercentage) return;
    e.ejectedAt = now;
    e.multiplier++;
    ejected++;
    actions.eject(e);
  };
  const limitReached = (): boolean => (ejected * 100) / endpoints.length >= config.maxEjectionPercent;
  const volume = (e: OutlierEndpoint): number => e.lastSuccesses + e.lastFailures;

  const sr = config.successRateEjection;
  if (sr !== undefined) {
    // A50 "Success Rate Algorithm".
    let hosts = 0;
    let sum = 0;
    for (const e of endpoints) {
      if (volume(e) < sr.requestVolume || volume(e) === 0) continue;
      hosts++;
      sum += e.lastSuccesses / volume(e);
    }
    if (hosts >= sr.minimumHosts && hosts > 0) {
      const mean = sum / hosts;
      let squares = 0;
      for (const e of endpoints) {
        if (volume(e) < sr.requestVolume || volume(e) === 0) continue;
        squares += (e.lastSuccesses / volume(e) - mean) ** 2;
      }
      const threshold = mean - Math.sqrt(squares / hosts) * (sr.stdevFactor / 1000);
      for (const e of endpoints) {
        if (limitReached()) break;
        if (e.ejectedAt !== undefined || volume(e) < sr.requestVolume || volume(e) === 0) continue;
        if (e.lastSuccesses / volume(e) < threshold) eject(e, sr.enforcementPercentage);
      }
    }
  }

  const fp = config.failurePercentageEjection;
  if (fp !== undefined) {
    // A50 "Failure Percentage Algorithm".
    let hosts = 0;
    for (const e of endpoints) if (volume(e) >= fp.requestVolume && volume(e) > 0) hosts++;
    if (hosts >= fp.minimumHosts) {
      for (const e of endpoints) {
        if (limitReached()) break;
        if (e.ejectedAt !== undefined || volume(e) < fp.requestVolume || volume(e) === 0) continue;
        if ((100 * e.lastFailures) / volume(e) > fp.threshold) eject(e, fp.enforcementPercentage);
      }
    }
  }

  for (const e of endpoints) {
    if (e.ejectedAt === undefined) {
      if (e.multiplier > 0) e.multiplier--;
    } else if (now >= e.ejectedAt + Math.min(config.baseEjectionTimeMs * e.multiplier, config.maxEjectionTimeMs)) {
      e.ejectedAt = undefined;
      actions.uneject(e);
    }
  }
}
