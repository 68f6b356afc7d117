/**
 * Thrown for invalid input to switchyard: a target, a channel option or a service config.
 *
 * The message has the form `<path>: <rule>[, got <value>]`, where `path` is the exact location of the
 * offending field (for a service config, a JSON path such as `methodConfig[1].retryPolicy.maxAttempts`;
 * for a target, `target`; for options, `options.<name>`).
 */
export class ConfigError extends Error {
  /** The field path, e.g. `loadBalancingConfig[0]` or `options.dnsRefreshIntervalMs`. */
  readonly path: string;
  /** The rule that was broken, e.g. `must be an integer >= 2`. */
  readonly rule: string;

  constructor(path: string, rule: string, got?: unknown) {
    super(got === undefined ? `${path}: ${rule}` : `${path}: ${rule}, got ${describe(got)}`);
    this.name = 'ConfigError';
    this.path = path;
    this.rule = rule;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
