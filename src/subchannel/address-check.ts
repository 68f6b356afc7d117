import { isIPv4, isIPv6 } from 'node:net';
import type { Address } from '../resolver/types';

/**
 * Why a subchannel cannot connect to `address` at all, or `undefined` when the address is usable.
 *
 * A resolver must hand over IP literals with a TCP port in [1, 65535], or a non-empty Unix socket path
 * (see `Address` in `src/resolver/types.ts`). A custom resolver can break that contract; the subchannel
 * then fails every connection attempt at once with this reason (reported as TRANSIENT_FAILURE, so the
 * policy uses the endpoint's other addresses and the channel's other endpoints) instead of handing
 * grpc-js a target it would parse differently (`ipv4:example.com:443`) or not at all.
 *
 * @param address what the resolver reported (typed, but not trusted: any value is accepted).
 * @returns a short rule, e.g. `port 0 is not an integer in [1, 65535]`, or undefined.
 */
export function invalidAddressReason(address: Address): string | undefined {
  if (typeof address !== 'object' || address === null) return `${String(address)} is not an address object`;
  if ('path' in address) {
    return typeof address.path === 'string' && address.path !== '' ? undefined : 'a Unix address needs a non-empty path';
  }
  const { host, port } = address as { host?: unknown; port?: unknown };
  if (typeof host !== 'string' || !(isIPv4(host) || isIPv6(host))) return `host ${JSON.stringify(host)} is not an IP literal`;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `port ${String(port)} is not an integer in [1, 65535]`;
  }
  return undefined;
}
