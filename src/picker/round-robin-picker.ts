import type { PickArgs, PickComplete, Picker, PickResult } from './types';

/**
 * A round_robin picker: an immutable snapshot of the READY subchannels' preallocated pick results,
 * walked with a counter starting at `start` (randomized by the policy so that many clients do not
 * all hit the first backend first). Each pick is O(1) and allocates nothing; the result object for a
 * subchannel is the same on every pick. When `args.previous` (earlier attempts of a retried or
 * hedged call, gRFC A6) contains the chosen subchannel, the picker moves on, at most
 * `min(previous.length, results.length - 1)` extra steps, so the cost stays bounded by the number of
 * attempts (at most 5 by default), never by the number of endpoints.
 *
 * @param results one preallocated result per READY subchannel; must be non-empty; not copied.
 * @param start the index of the first pick, in [0, results.length).
 */
export function roundRobinPicker(results: readonly PickComplete[], start: number): Picker {
  const n = results.length;
  let next = start >= 0 && start < n ? Math.floor(start) : 0;
  return {
    pick(args: PickArgs): PickResult {
      let result = results[next] as PickComplete;
      next = next + 1 === n ? 0 : next + 1;
      const previous = args.previous;
      if (previous !== undefined && n > 1) {
        for (let budget = Math.min(previous.length, n - 1); budget > 0 && previous.includes(result.subchannel); budget--) {
          result = results[next] as PickComplete;
          next = next + 1 === n ? 0 : next + 1;
        }
      }
      return result;
    },
  };
}
