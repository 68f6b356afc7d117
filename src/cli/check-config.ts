import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { STATUS_CODE_NAMES } from '../config/status-code';
import type { MethodConfig, ServiceConfig } from '../config/types';
import { validateServiceConfig } from '../config/validate';
import { formatDuration } from '../json/duration';
import { EXIT, readAll, type CliIo } from './io';
import '../picker';

export const CHECK_CONFIG_USAGE = `usage: switchyard check-config <file|-> [--strict] [--max-attempts-cap <n>] [--json]

Validate a gRPC service config (doc/service_config.md) as a switchyard channel would, and print what
applies to each method: timeout, wait-for-ready, message size limits, retry or hedging policy, and the
channel's load-balancing policy and retry throttling. Fields that change nothing are listed as warnings.
  -              read the config from standard input
  --strict       treat warnings as errors (as the channel option strict: true)
  --json         print the result as JSON
Exit status: 0 valid, 1 invalid (each error printed with its JSON path), 2 usage error.
`;

/**
 * `switchyard check-config`: see {@link CHECK_CONFIG_USAGE}.
 * @returns the exit status.
 */
export async function runCheckConfig(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      strict: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'max-attempts-cap': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(CHECK_CONFIG_USAGE);
    return EXIT.ok;
  }
  const source = positionals[0];
  const cap = values['max-attempts-cap'] === undefined ? 5 : Number(values['max-attempts-cap']);
  if (source === undefined || positionals.length > 1 || !Number.isInteger(cap) || cap < 2) {
    io.err(CHECK_CONFIG_USAGE);
    return EXIT.usage;
  }
  let text: string;
  try {
    text = source === '-' ? await readAll(io.stdin) : await readFile(source, 'utf8');
  } catch (error) {
    io.err(`switchyard check-config: cannot read ${source}: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const result = validateServiceConfig(text, { maxAttemptsCap: cap });
  const failed = !result.valid || (values.strict && result.warnings.length > 0);
  if (values.json) {
    io.out(`${JSON.stringify({ valid: !failed, errors: result.errors, warnings: result.warnings }, null, 2)}\n`);
    return failed ? EXIT.invalid : EXIT.ok;
  }
  for (const { path, message } of result.errors) io.err(`error: ${path}: ${message}\n`);
  if (result.config !== undefined) io.out(describeConfig(result.config));
  if (result.warnings.length > 0) {
    io.out(`\n${result.warnings.length} warning(s)${values.strict ? ' (errors with --strict)' : ''}:\n`);
    for (const { path, message } of result.warnings) io.out(`  ${path}: ${message}\n`);
  }
  io.out(failed ? `\ninvalid: ${result.errors.length + (values.strict ? result.warnings.length : 0)} problem(s)\n` : '\nvalid\n');
  return failed ? EXIT.invalid : EXIT.ok;
}

/** The effective settings of a parsed config, per method config key, as a readable table. */
function describeConfig(config: ServiceConfig): string {
  const lines: string[] = [];
  const lb = config.loadBalancing;
  lines.push(`load balancing: ${lb === undefined ? 'pick_first (default)' : `${lb.factory.name} ${JSON.stringify(lb.config)}`}`);
  const throttling = config.retryThrottling;
  lines.push(throttling === undefined
    ? 'retry throttling: none'
    : `retry throttling: maxTokens ${throttling.maxTokens}, tokenRatio ${throttling.tokenRatio} (retries and hedges stop at or below ${throttling.maxTokens / 2} tokens)`);
  lines.push(`health checking: ${config.healthCheckServiceName === undefined ? 'off' : `service "${config.healthCheckServiceName}" (not with pick_first)`}`);
  const keys = [...config.methodConfigs.keys()].sort();
  if (keys.length === 0) {
    lines.push('methods: no method config (no timeout, no retries)');
  } else {
    lines.push('methods:');
    for (const key of keys) lines.push(`  ${methodLabel(key)}`, ...describeMethod(config.methodConfigs.get(key)!).map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

function methodLabel(key: string): string {
  if (key === '') return '* (every method without a more specific entry)';
  const slash = key.indexOf('/', 1);
  const method = key.slice(slash + 1);
  return `${key.slice(1, slash)}/${method === '' ? '*' : method}`;
}

function describeMethod(method: MethodConfig): string[] {
  const codes = (set: ReadonlySet<number>): string => [...set].map((c) => STATUS_CODE_NAMES[c] ?? String(c)).join(', ') || 'none';
  const lines = [
    `timeout: ${method.timeoutMs === undefined ? 'none' : formatDuration(method.timeoutMs)}`,
    `waitForReady: ${method.waitForReady ?? false}`,
  ];
  if (method.maxRequestMessageBytes !== undefined) lines.push(`maxRequestMessageBytes: ${method.maxRequestMessageBytes}`);
  if (method.maxResponseMessageBytes !== undefined) lines.push(`maxResponseMessageBytes: ${method.maxResponseMessageBytes}`);
  const retry = method.retryPolicy;
  const hedging = method.hedgingPolicy;
  if (retry !== undefined) {
    lines.push(`retry: up to ${retry.maxAttempts} attempts on ${codes(retry.retryableStatusCodes)}; backoff ${formatDuration(retry.initialBackoffMs)} ×${retry.backoffMultiplier} up to ${formatDuration(retry.maxBackoffMs)} (±20 % jitter)`);
  } else if (hedging !== undefined) {
    lines.push(`hedging: up to ${hedging.maxAttempts} attempts, one every ${formatDuration(hedging.hedgingDelayMs)}; non-fatal: ${codes(hedging.nonFatalStatusCodes)}`);
  } else {
    lines.push('retry: none (transparent retries only)');
  }
  return lines;
}
