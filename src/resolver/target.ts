import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors';
import { isHostName, isHostPortError, splitHostPort } from './host-port';
import { getResolverFactory, registeredSchemes } from './registry';
import type { Target } from './types';

/** The scheme a target without one gets (gRPC `doc/naming.md`: "dns is the default"). */
export const DEFAULT_SCHEME = 'dns';

const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const AUTHORITY_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
// C0 controls, DEL and the C1 controls: never valid in a URI (RFC 3986 §2) and a sign of a pasting mistake.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Parse a channel target per gRPC's `doc/naming.md` (RFC 3986 `scheme:[//authority/]path`).
 *
 * - `scheme:` prefix of a registered resolver (see `registerResolver`): split into authority and
 *   path, e.g. `dns://127.0.0.1:5353/svc:50051` → authority `127.0.0.1:5353`, path `svc:50051`;
 *   `dns:svc:50051` and `unix:/tmp/s.sock` have an empty authority. The path after `//authority/`
 *   loses its leading `/` (so `unix:///tmp/s` has path `tmp/s`; {@link hasAuthoritySection} tells the
 *   two forms apart). Whether the path is valid for the scheme is checked by the resolver's `create()`.
 * - Otherwise a plain `host`, `host:port`, `[v6]:port`, bare IPv6 literal or IPv4 literal with port is
 *   a DNS target: `localhost:50051` means `dns:///localhost:50051`.
 * - Anything else is rejected: unlike grpc-core, an unknown scheme is an error, not a DNS name,
 *   because `etcdx:///svc` is a typo far more often than a host called "etcdx".
 *
 * The scheme is returned lower-cased; `raw` is the input unchanged.
 *
 * @param raw the target string the application passed.
 * @returns the parsed target.
 * @throws ConfigError (path `target`) for a non-string, empty or whitespace-only string, leading or
 *   trailing whitespace, control characters, an unknown scheme (`foo://x`, `etcdx:///svc`), or text
 *   that is neither a URI of a registered scheme nor a valid `host[:port]` (`localhost:99999`,
 *   `/tmp/s.sock`). Never throws anything else.
 */
export function parseTarget(raw: string): Target {
  if (typeof raw !== 'string') throw new ConfigError('target', 'must be a string', raw);
  if (raw.trim() === '') throw new ConfigError('target', 'must not be empty', raw);
  if (raw.trim() !== raw) throw new ConfigError('target', 'must not have leading or trailing whitespace', raw);
  if (CONTROL.test(raw)) throw new ConfigError('target', 'must not contain control characters', raw);

  const prefix = SCHEME_PREFIX.exec(raw);
  if (prefix !== null && getResolverFactory(prefix[1]!) !== undefined) {
    return splitUri(prefix[1]!.toLowerCase(), raw.slice(prefix[0].length), raw);
  }
  const plain = splitHostPort(raw);
  const hostError = isHostPortError(plain) ? plain.error : hostRuleBroken(plain.host, plain.bracketed);
  if (hostError === undefined) return { scheme: DEFAULT_SCHEME, authority: '', path: raw, raw };
  // `name:123` is an attempt at host:port whatever the name; `name:anything-else` names a scheme.
  if (prefix !== null && !/^[0-9]*$/.test(raw.slice(prefix[0].length))) {
    throw new ConfigError(
      'target',
      `unknown scheme "${prefix[1]}" (registered: ${registeredSchemes().join(', ') || 'none'})`,
      raw,
    );
  }
  const hint = raw.startsWith('/') ? '; for a Unix socket write unix:<path>' : '';
  throw new ConfigError(
    'target',
    `must be scheme:[//authority/]path or host[:port] (doc/naming.md): ${hostError}${hint}`,
    raw,
  );
}

/**
 * True when the target was written with an authority section (`scheme://authority/path`, including
 * the empty authority of `dns:///host`), false for `scheme:path` and scheme-less targets. The unix
 * resolver needs it: `unix:///tmp/s` is the absolute `/tmp/s`, `unix:tmp/s` is relative.
 */
export function hasAuthoritySection(target: Target): boolean {
  return AUTHORITY_FORM.test(target.raw);
}

function splitUri(scheme: string, rest: string, raw: string): Target {
  if (!rest.startsWith('//')) return { scheme, authority: '', path: rest, raw };
  const slash = rest.indexOf('/', 2);
  if (slash === -1) return { scheme, authority: rest.slice(2), path: '', raw };
  return { scheme, authority: rest.slice(2, slash), path: rest.slice(slash + 1), raw };
}

function hostRuleBroken(host: string, bracketed: boolean): string | undefined {
  if (bracketed || host.includes(':')) return isIPv6(host) ? undefined : `"${host}" is not an IPv6 literal`;
  if (isIPv4(host) || isHostName(host)) return undefined;
  return `host "${host}" is neither a host name nor an IP literal`;
}
