import { isIPv4, isIPv6 } from 'node:net';

/**
 * The port used when a `dns:`, `ipv4:` or `ipv6:` target names none: 443, per gRPC's `doc/naming.md`.
 */
export const DEFAULT_PORT = 443;

/** A `host[:port]` split into its parts. `host` carries no brackets; `port` is absent when not given. */
export interface HostPort {
  readonly host: string;
  readonly port?: number;
  /** True when the host was written in brackets (`[::1]:80`). */
  readonly bracketed: boolean;
}

/** Why a `host[:port]` could not be split: a rule phrased for a `ConfigError`. */
export interface HostPortError {
  readonly error: string;
}

const DIGITS = /^[0-9]+$/;
// RFC 1123 labels, plus "_" which service names and container names use in practice.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * Split `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal (`::1`, no port) the way
 * gRPC's `doc/naming.md` writes addresses. Only the syntax is checked here; whether the host is a
 * valid name or literal is up to the caller ({@link isHostName}, `net.isIPv4`, `net.isIPv6`).
 *
 * @param text the `host[:port]` text, e.g. `svc.internal:50051`.
 * @returns the parts, or `{ error }` naming the rule broken (never throws).
 */
export function splitHostPort(text: string): HostPort | HostPortError {
  if (text === '') return { error: 'host is empty' };
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return { error: '"[" without a closing "]"' };
    const host = text.slice(1, close);
    if (!isIPv6(host)) return { error: `"[${host}]": brackets may only hold an IPv6 literal` };
    const rest = text.slice(close + 1);
    if (rest === '') return { host, bracketed: true };
    if (!rest.startsWith(':')) return { error: `unexpected text "${rest}" after "]"` };
    const port = parsePort(rest.slice(1));
    return typeof port === 'number' ? { host, port, bracketed: true } : port;
  }
  const colon = text.indexOf(':');
  if (colon === -1) return { host: text, bracketed: false };
  if (text.indexOf(':', colon + 1) !== -1) {
    // Several colons without brackets can only be a bare IPv6 literal, which then has no port.
    if (isIPv6(text)) return { host: text, bracketed: false };
    return { error: `"${text}" is neither host:port nor an IPv6 literal (an IPv6 address with a port must be in brackets)` };
  }
  const host = text.slice(0, colon);
  if (host === '') return { error: 'host is empty' };
  const port = parsePort(text.slice(colon + 1));
  return typeof port === 'number' ? { host, port, bracketed: false } : port;
}

/**
 * Parse a decimal TCP port.
 * @returns the port in [1, 65535], or `{ error }` naming the rule.
 */
export function parsePort(text: string): number | HostPortError {
  if (!DIGITS.test(text) || text.length > 5) return { error: `port "${text}" must be an integer in [1, 65535]` };
  const port = Number(text);
  if (port < 1 || port > 65535) return { error: `port "${text}" must be an integer in [1, 65535]` };
  return port;
}

/**
 * True for a syntactically valid DNS host name (RFC 1123: dot-separated labels of letters, digits and
 * "-", at most 63 characters each, 253 in all, optional trailing dot; "_" also accepted). The last
 * label may not be all digits (RFC 3696 §2), so `1.2.3.999` or `1.2.3` is neither an IP literal nor a
 * name — getaddrinfo would otherwise read `1.2.3` as the address 1.2.0.3.
 */
export function isHostName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name === '' || name.length > 253) return false;
  const labels = name.split('.');
  return labels.every((label) => LABEL.test(label)) && !DIGITS.test(labels[labels.length - 1]!);
}

/** True when `host` is an IP literal (IPv4 dotted quad or IPv6 without brackets): no lookup needed. */
export function isIpLiteral(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

/** Type guard for the error arm of {@link splitHostPort} / {@link parsePort}. */
export function isHostPortError(value: unknown): value is HostPortError {
  return typeof value === 'object' && value !== null && 'error' in value;
}
