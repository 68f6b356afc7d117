import { addressKey } from './address';
import type { Address, Endpoint } from './types';

/**
 * One single-address endpoint per distinct address, in first-seen order. Duplicates (same
 * {@link addressKey}) are dropped: two endpoints for one address would double its share of picks.
 *
 * @param addresses resolved addresses, possibly with repeats.
 * @returns a new array of endpoints (empty when `addresses` is).
 */
export function endpointsFromAddresses(addresses: Iterable<Address>): Endpoint[] {
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const address of addresses) {
    const key = addressKey(address);
    if (seen.has(key)) continue;
    seen.add(key);
    endpoints.push({ addresses: [address] });
  }
  return endpoints;
}
