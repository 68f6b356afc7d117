import { ConfigError } from '../errors';

/**
 * The client language switchyard announces when matching a choice's `clientLanguage` list (gRFC A2).
 * It is the same string grpc-js uses (`CLIENT_LANGUAGE_STRING` in its `service-config.ts`), so a
 * record written for Node clients applies to switchyard channels too. Compared case-insensitively,
 * as A2 requires.
 */
export const CLIENT_LANGUAGE = 'node';

/** The RFC 1464 attribute that marks a TXT record as a gRPC service config (gRFC A2). */
const ATTRIBUTE = 'grpc_config=';

/** The keys gRFC A2 allows in a service config choice; any other key invalidates the config. */
const CHOICE_KEYS = new Set(['clientLanguage', 'percentage', 'clientHostname', 'serviceConfig']);

/** Inputs of {@link selectServiceConfig} that describe this client and the lookup. */
export interface ServiceConfigSelectionOptions {
  /**
   * This client's host name "according to the system" (gRFC A2), normally `os.hostname()`; matched
   * exactly (case-sensitive) against a choice's `clientHostname` list. Passed in so selection stays pure.
   */
  readonly hostname: string;
  /**
   * The gRPC server name the TXT records were looked up for (the `<host>` of `_grpc_config.<host>`,
   * without port). Used only to build error paths.
   */
  readonly serverName: string;
  /**
   * Uniform random number in [0, 1). Called at most once per selection, and only when a choice has a
   * `percentage`. gRFC A2 speaks of a percentage *of clients*, so callers should pass a function that
   * returns the same number for the life of a channel (draw once, then `() => drawn`); a fresh draw
   * per resolution would move a client in and out of a canary.
   */
  readonly random: () => number;
  /** Upper bound in bytes (UTF-8) on the `grpc_config` record, its strings concatenated. */
  readonly maxBytes: number;
}

/**
 * Select the service config for this client from the TXT records found at `_grpc_config.<host>`,
 * implementing gRFC A2 ("Service Config via DNS").
 *
 * - Each record is an array of strings (as `dns.resolveTxt` returns it); its strings are concatenated
 *   without separator (RFC 4408 §3.1.3, as A2 prescribes).
 * - Records not starting with the RFC 1464 attribute `grpc_config=` are ignored. A2 does not say what
 *   to do with several `grpc_config` records; like gRPC C-core and grpc-js, the first one is used and
 *   the others are ignored.
 * - The attribute value is a JSON list of choices `{clientLanguage?: string[], percentage?: integer
 *   0..100, clientHostname?: string[], serviceConfig: object}`. Every choice is validated before any
 *   is selected, so a config is valid or invalid for all clients alike (A2 and gRFC A21: an invalid
 *   choice discards the whole config).
 * - A choice matches when every present, non-empty criterion matches: `clientLanguage` contains
 *   {@link CLIENT_LANGUAGE} (case-insensitive); `random() * 100 < percentage` (so 0 never and 100
 *   always matches); `clientHostname` contains `opts.hostname` exactly. The first match wins.
 *
 * @param txtRecords TXT records, each an array of strings (`dns.promises.resolveTxt` output).
 * @param opts See {@link ServiceConfigSelectionOptions}.
 * @returns The raw `serviceConfig` object of the first matching choice (not validated: the caller
 *   parses it as a service config), or `null` when there is no `grpc_config` record or no choice
 *   matches this client.
 * @throws ConfigError when the record exceeds `opts.maxBytes` (path `_grpc_config.<host>`), is not
 *   JSON or not a list (same path), or a choice has an unknown key or a wrongly typed field (path such
 *   as `_grpc_config.<host>[1].percentage`).
 */
export function selectServiceConfig(
  txtRecords: readonly (readonly string[])[],
  opts: ServiceConfigSelectionOptions,
): unknown | null {
  const path = `_grpc_config.${opts.serverName}`;
  const record = findConfigRecord(txtRecords);
  if (record === undefined) return null;

  const bytes = Buffer.byteLength(record, 'utf8');
  if (bytes > opts.maxBytes) {
    throw new ConfigError(path, `grpc_config TXT record must be at most ${opts.maxBytes} bytes`, `${bytes} bytes`);
  }

  let choices: unknown;
  try {
    choices = JSON.parse(record.slice(ATTRIBUTE.length));
  } catch (err) {
    throw new ConfigError(path, `grpc_config value must be JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(choices)) {
    throw new ConfigError(path, 'grpc_config value must be a JSON list of service config choices', choices);
  }
  choices.forEach((choice, i) => validateChoice(choice, `${path}[${i}]`));

  let percentile: number | undefined;
  for (const choice of choices as Choice[]) {
    if (!matchesLanguage(choice.clientLanguage)) continue;
    if (!matchesHostname(choice.clientHostname, opts.hostname)) continue;
    if (choice.percentage !== undefined) {
      percentile ??= opts.random() * 100;
      if (!(percentile < choice.percentage)) continue;
    }
    return choice.serviceConfig;
  }
  return null;
}

interface Choice {
  clientLanguage?: string[];
  percentage?: number;
  clientHostname?: string[];
  serviceConfig: Record<string, unknown>;
}

function findConfigRecord(txtRecords: readonly (readonly string[])[]): string | undefined {
  for (const strings of txtRecords) {
    const joined = strings.join('');
    if (joined.startsWith(ATTRIBUTE)) return joined;
  }
  return undefined;
}

function validateChoice(choice: unknown, path: string): void {
  if (!isPlainObject(choice)) throw new ConfigError(path, 'a service config choice must be a JSON object', choice);
  for (const key of Object.keys(choice)) {
    if (!CHOICE_KEYS.has(key)) {
      throw new ConfigError(`${path}.${key}`, 'unknown field in a service config choice (gRFC A2 allows clientLanguage, percentage, clientHostname, serviceConfig)');
    }
  }
  validateStringList(choice.clientLanguage, `${path}.clientLanguage`);
  validateStringList(choice.clientHostname, `${path}.clientHostname`);
  const percentage = choice.percentage;
  if (percentage !== undefined && !(typeof percentage === 'number' && Number.isInteger(percentage) && percentage >= 0 && percentage <= 100)) {
    throw new ConfigError(`${path}.percentage`, 'must be an integer from 0 to 100', percentage);
  }
  if (!isPlainObject(choice.serviceConfig)) {
    throw new ConfigError(`${path}.serviceConfig`, 'is required and must be a JSON object', choice.serviceConfig);
  }
}

function validateStringList(value: unknown, path: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new ConfigError(path, 'must be a list of strings', value);
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(`${path}[${i}]`, 'must be a string', item);
  });
}

// A2: "If a field is absent or empty, it matches all clients."
function matchesLanguage(languages: string[] | undefined): boolean {
  if (languages === undefined || languages.length === 0) return true;
  return languages.some((language) => language.toLowerCase() === CLIENT_LANGUAGE);
}

function matchesHostname(hostnames: string[] | undefined, clientHostname: string): boolean {
  if (hostnames === undefined || hostnames.length === 0) return true;
  return hostnames.includes(clientHostname);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
