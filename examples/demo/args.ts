import { parseArgs } from 'node:util';

/** Load-balancing policies the demo can select (each with the config of `demoPolicyConfig`). */
export const DEMO_POLICIES = [
  'pick_first', 'round_robin', 'least_request', 'weighted_round_robin', 'outlier_detection', 'ring_hash', 'switchyard.peak_ewma',
] as const;

/** A load-balancing policy name from {@link DEMO_POLICIES}. */
export type DemoPolicy = (typeof DEMO_POLICIES)[number];

/** How the demo client finds the local backends. */
export const DEMO_DISCOVERIES = ['ipv4', 'etcd'] as const;

/** A discovery mode from {@link DEMO_DISCOVERIES}: an `ipv4:` address list, or etcd registrations. */
export type DemoDiscovery = (typeof DEMO_DISCOVERIES)[number];

/** The demo's settings, parsed from the command line. */
export interface DemoOptions {
  /** Length of the run in ms (with {@link DemoOptions.compare}, both loads run side by side for this long). */
  durationMs: number;
  /** Calls kept in flight at all times (closed loop). */
  concurrency: number;
  /** Load-balancing policy written into the service config. */
  policy: DemoPolicy;
  /** An existing target to load instead of starting local backends; undefined = start three backends. */
  target: string | undefined;
  /** Per-call timeout in ms, applied as the service config's `methodConfig[].timeout`. */
  timeoutMs: number;
  /** Fraction in [0, 1] of calls the flaky backend (b3) fails with UNAVAILABLE. */
  failRate: number;
  /** How the client finds the local backends. */
  discovery: DemoDiscovery;
  /** Also drive the same load, at the same time, on a channel without the retry policy; print both side by side. */
  compare: boolean;
  /** Use a hedging policy with this `hedgingDelay` (ms) instead of the retry policy; undefined = retries. */
  hedgeDelayMs: number | undefined;
  /** Serve the switchyard channel's metrics for Prometheus on 127.0.0.1 at this port; undefined = off. */
  metricsPort: number | undefined;
}

/** Usage text printed on `--help` and on a bad argument. */
export const USAGE = `usage: npm run demo -- [options]
  --duration <s>        length of the run in seconds (default 20)
  --concurrency <n>     calls kept in flight by each load (default 16)
  --policy <name>       pick_first | round_robin | least_request | weighted_round_robin | outlier_detection |
                        ring_hash | switchyard.peak_ewma (default round_robin)
  --target <target>     load an existing target instead of starting three local backends
  --timeout-ms <ms>     per-call timeout, set as the service config's method timeout (default 1000)
  --fail-rate <f>       fraction of calls the flaky backend b3 fails with UNAVAILABLE (default 0.25)
  --discovery <how>     ipv4 (an ipv4: address list) | etcd (backends register in a local etcd) (default ipv4)
  --hedge-delay-ms <ms> use a hedging policy with this hedgingDelay instead of the retry policy
  --no-compare          skip the comparison load without retries
  --metrics-port <n>    serve the channel's OpenTelemetry metrics for Prometheus at http://127.0.0.1:<n>/metrics
  --help                show this text`;

/** Thrown for a bad command line; the message says which flag and why. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function positive(flag: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!allowed.includes(raw as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/**
 * Parses the demo's command line (`process.argv.slice(2)` by default).
 * @returns the options, or `'help'` when `--help` was given.
 * @throws UsageError for an unknown flag, an invalid value or incompatible flags.
 */
export function parseDemoArgs(argv: readonly string[] = process.argv.slice(2)): DemoOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string', default: '20' },
        concurrency: { type: 'string', default: '16' },
        policy: { type: 'string', default: 'round_robin' },
        target: { type: 'string' },
        'timeout-ms': { type: 'string', default: '1000' },
        'fail-rate': { type: 'string', default: '0.25' },
        discovery: { type: 'string', default: 'ipv4' },
        'hedge-delay-ms': { type: 'string' },
        'no-compare': { type: 'boolean', default: false },
        'metrics-port': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const failRate = Number(values['fail-rate']);
  if (values['fail-rate'].trim() === '' || !(failRate >= 0 && failRate <= 1)) {
    throw new UsageError(`--fail-rate must be in [0, 1], got ${JSON.stringify(values['fail-rate'])}`);
  }
  if (values.target !== undefined && values.target.trim() === '') throw new UsageError('--target must not be empty');
  const discovery = oneOf('discovery', values.discovery, DEMO_DISCOVERIES);
  if (values.target !== undefined && discovery !== 'ipv4') {
    throw new UsageError('--discovery etcd starts and registers local backends; it cannot be combined with --target');
  }
  const hedge = values['hedge-delay-ms'];
  return {
    durationMs: Math.round(positive('duration', values.duration, false) * 1000),
    concurrency: positive('concurrency', values.concurrency, true),
    policy: oneOf('policy', values.policy, DEMO_POLICIES),
    target: values.target,
    timeoutMs: positive('timeout-ms', values['timeout-ms'], true),
    failRate,
    discovery,
    compare: !values['no-compare'],
    hedgeDelayMs: hedge === undefined ? undefined : positive('hedge-delay-ms', hedge, true),
    metricsPort: values['metrics-port'] === undefined ? undefined : positive('metrics-port', values['metrics-port'], true),
  };
}
