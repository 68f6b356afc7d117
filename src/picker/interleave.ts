import { isIPv6Address } from '../resolver/address';
import type { Address } from '../resolver/types';

/**
 * Interleave address families as RFC 8305 section 4 ("Sorting of Resolved Destination Addresses")
 * asks, with a First Address Family Count of 1: the family of the first address goes first, then
 * the lists alternate one address at a time, and whatever remains of the longer family follows in
 * its original order. gRFC A61 applies this to pick_first's flattened address list so that a broken
 * family costs at most one Connection Attempt Delay per address of the working one.
 *
 * Families are "IPv6" and "everything else": IPv4 and Unix socket addresses share a family, since a
 * Unix path is neither and RFC 8305 defines only two.
 *
 * @param addresses an already ordered (RFC 6724-sorted by the resolver, optionally shuffled) list.
 * @returns a new array; relative order within each family is preserved. O(addresses.length).
 */
export function interleaveAddressFamilies(addresses: readonly Address[]): Address[] {
  if (addresses.length < 2) return addresses.slice();
  const firstIsV6 = isIPv6Address(addresses[0] as Address);
  const first: Address[] = [];
  const second: Address[] = [];
  for (const address of addresses) {
    (isIPv6Address(address) === firstIsV6 ? first : second).push(address);
  }
  const out: Address[] = [];
  const longest = Math.max(first.length, second.length);
  for (let i = 0; i < longest; i++) {
    if (i < first.length) out.push(first[i] as Address);
    if (i < second.length) out.push(second[i] as Address);
  }
  return out;
}
