/**
 * switchyard's debug log, switched on like grpc's `GRPC_TRACE` / `GRPC_VERBOSITY`
 * (`doc/environment_variables.md`):
 *
 * - `SWITCHYARD_TRACE=resolver,balancer,subchannel,call,retry,transport` (or `all`): the categories to log;
 *   `-name` removes one (`all,-call`).
 * - `SWITCHYARD_VERBOSITY=DEBUG|INFO|ERROR`: the least severity printed (default `DEBUG` with
 *   `SWITCHYARD_TRACE`); set alone, it logs every category at that severity (e.g. `ERROR`: resolver
 *   failures and rejected configs only).
 *
 * One line per decision, to stderr: `<ISO time> <D|I|E> switchyard[<channel id> <target>] <category>: <text>`.
 * The variables are read once, at load; a channel whose log is off holds no logger, and no line is
 * formatted.
 */

/** The log categories. */
export type LogCategory = 'resolver' | 'balancer' | 'subchannel' | 'call' | 'retry' | 'transport';
/** Severity of one line: debug, info, error (as GRPC_VERBOSITY's levels). */
export type Severity = 'D' | 'I' | 'E';

const CATEGORIES: readonly LogCategory[] = ['resolver', 'balancer', 'subchannel', 'call', 'retry', 'transport'];
const RANK: Readonly<Record<Severity, number>> = { D: 0, I: 1, E: 2 };

/** What the environment switched on. Internal. */
export interface DebugLogSettings {
  readonly categories: ReadonlySet<LogCategory>;
  /** The least severity printed (a {@link RANK} value). */
  readonly minRank: number;
}

/**
 * Read `SWITCHYARD_TRACE` and `SWITCHYARD_VERBOSITY` from `env`.
 * @returns `undefined` when nothing is logged.
 */
export function parseDebugLogSettings(env: Readonly<Record<string, string | undefined>>): DebugLogSettings | undefined {
  const trace = env.SWITCHYARD_TRACE?.trim() ?? '';
  const verbosity = env.SWITCHYARD_VERBOSITY?.trim().toUpperCase() ?? '';
  const level = verbosity === 'ERROR' ? 'E' : verbosity === 'INFO' ? 'I' : verbosity === 'DEBUG' ? 'D' : undefined;
  const categories = new Set<LogCategory>();
  if (trace === '') {
    if (level === undefined) return undefined;
    for (const category of CATEGORIES) categories.add(category);
  }
  for (const raw of trace.split(',')) {
    const name = raw.trim().toLowerCase();
    const remove = name.startsWith('-');
    const key = remove ? name.slice(1) : name;
    const names = key === 'all' ? CATEGORIES : CATEGORIES.filter((c) => c === key);
    for (const category of names) {
      if (remove) categories.delete(category);
      else categories.add(category);
    }
  }
  if (categories.size === 0) return undefined;
  return { categories, minRank: RANK[level ?? 'D'] };
}

const settings = parseDebugLogSettings(process.env);

/** Where lines go (stderr); replaceable for tests of the formatting. Internal. */
export type LogSink = (line: string) => void;
const stderrSink: LogSink = (line) => process.stderr.write(line);

/**
 * One channel's debug log. The boolean fields say which categories print anything, so a caller
 * guards each line with `if (log?.retry)` and formats nothing otherwise.
 */
export class ChannelLog {
  readonly resolver: boolean;
  readonly balancer: boolean;
  readonly subchannel: boolean;
  readonly call: boolean;
  readonly retry: boolean;
  readonly transport: boolean;
  private readonly prefix: string;

  constructor(
    private readonly settings: DebugLogSettings,
    channelId: number,
    target: string,
    private readonly sink: LogSink = stderrSink,
  ) {
    const on = (category: LogCategory): boolean => settings.categories.has(category);
    this.resolver = on('resolver');
    this.balancer = on('balancer');
    this.subchannel = on('subchannel');
    this.call = on('call');
    this.retry = on('retry');
    this.transport = on('transport');
    this.prefix = ` switchyard[${channelId} ${target}] `;
  }

  /** Write one line if `category` is on and `severity` is at least the configured verbosity. */
  write(category: LogCategory, severity: Severity, text: string): void {
    if (!this.settings.categories.has(category) || RANK[severity] < this.settings.minRank) return;
    this.sink(`${new Date().toISOString()} ${severity}${this.prefix}${category}: ${text}\n`);
  }
}

/**
 * The debug log of a new channel, or `undefined` when the environment switched nothing on.
 * @param settings for tests; default: what `SWITCHYARD_TRACE` / `SWITCHYARD_VERBOSITY` said at load.
 */
export function createChannelLog(
  channelId: number,
  target: string,
  options: { settings?: DebugLogSettings; sink?: LogSink } = {},
): ChannelLog | undefined {
  const chosen = options.settings ?? settings;
  return chosen === undefined ? undefined : new ChannelLog(chosen, channelId, target, options.sink);
}
