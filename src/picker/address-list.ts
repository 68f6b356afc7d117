import { addressKey } from '../resolver/address';
import type { Address, Endpoint } from '../resolver/types';

/**
 * Concatenate the addresses of every endpoint in order and keep the first occurrence of each
 * address (compared by {@link addressKey}), as gRFC A61's "Address List Handling in pick_first"
 * step 2 flattens an endpoint list. Two entries with one key would otherwise share one subchannel
 * and be counted twice.
 *
 * @param endpoints the resolver's endpoint list, in order.
 * @returns a new array of distinct addresses. O(total addresses).
 */
export function flattenDistinctAddresses(endpoints: readonly Endpoint[]): Address[] {
  const seen = new Set<string>();
  const out: Address[] = [];
  for (const endpoint of endpoints) {
    for (const address of endpoint.addresses) {
      const key = addressKey(address);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(address);
    }
  }
  return out;
}
