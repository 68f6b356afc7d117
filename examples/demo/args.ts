import { parseArgs } from 'node:util';

/** Load-balancing policies the demo can select. */
export const DEMO_POLICIES = ['pick_first', 'round_robin'] as const;

/** A load-balancing policy name from {@link DEMO_POLICIES}. */
export type DemoPolicy = (typeof DEMO_POLICIES)[number];

/** The demo's settings, parsed from the command line. */
export interface DemoOptions {
  /** Length of the load run, in ms. */
  durationMs: number;
  /** Calls kept in flight at all times (closed loop). */
  concurrency: number;
  /** Load-balancing policy written into the service config. */
  policy: DemoPolicy;
  /** An existing target to load instead of starting local backends; undefined = start three backends. */
  target: string | undefined;
  /** Per-call timeout in ms (each call's deadline is its start time plus this). */
  deadlineMs: number;
  /** Fraction in [0, 1] of calls each started backend fails with UNAVAILABLE. */
  failRate: number;
}

/** Usage text printed on `--help` and on a bad argument. */
export const USAGE = `usage: npm run demo -- [options]
  --duration <s>        length of the run in seconds (default 20)
  --concurrency <n>     calls kept in flight (default 16)
  --policy <name>       pick_first | round_robin (default round_robin)
  --target <target>     load an existing target instead of starting three local backends
  --deadline-ms <ms>    per-call deadline (default 1000)
  --fail-rate <f>       fraction of calls the local backends fail with UNAVAILABLE (default 0)
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

/**
 * Parses the demo's command line (`process.argv.slice(2)` by default).
 * @returns the options, or `'help'` when `--help` was given.
 * @throws UsageError for an unknown flag or an invalid value.
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
        'deadline-ms': { type: 'string', default: '1000' },
        'fail-rate': { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const policy = values.policy as DemoPolicy;
  if (!DEMO_POLICIES.includes(policy)) {
    throw new UsageError(`--policy must be one of ${DEMO_POLICIES.join(', ')}, got ${JSON.stringify(values.policy)}`);
  }
  const failRate = Number(values['fail-rate']);
  if (!(failRate >= 0 && failRate <= 1)) {
    throw new UsageError(`--fail-rate must be in [0, 1], got ${JSON.stringify(values['fail-rate'])}`);
  }
  if (values.target !== undefined && values.target.trim() === '') throw new UsageError('--target must not be empty');
  return {
    durationMs: Math.round(positive('duration', values.duration, false) * 1000),
    concurrency: positive('concurrency', values.concurrency, true),
    policy,
    target: values.target,
    deadlineMs: positive('deadline-ms', values['deadline-ms'], true),
    failRate,
  };
}
