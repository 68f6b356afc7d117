import { isIPv6 } from 'node:net';
import type { Address, TcpAddress, UnixAddress } from './types';

/** True for a Unix domain socket address. */
export function isUnixAddress(address: Address): address is UnixAddress {
  return (address as UnixAddress).path !== undefined;
}

/** True for a TCP address whose host is an IPv6 literal. */
export function isIPv6Address(address: Address): address is TcpAddress {
  return !isUnixAddress(address) && isIPv6(address.host);
}

/**
 * A stable key for an address: `127.0.0.1:50051`, `[::1]:50051` or `unix:/tmp/s.sock`. Two addresses
 * with the same key share one connection.
 */
export function addressKey(address: Address): string {
  if (isUnixAddress(address)) return `unix:${address.path}`;
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * The grpc-js target for a connection to exactly this address (`ipv4:`, `ipv6:` or `unix:` scheme of
 * gRPC's `doc/naming.md`), so grpc-js does no name resolution of its own.
 */
export function addressToGrpcTarget(address: Address): string {
  if (isUnixAddress(address)) return `unix:${address.path}`;
  return isIPv6(address.host) ? `ipv6:[${address.host}]:${address.port}` : `ipv4:${address.host}:${address.port}`;
}
