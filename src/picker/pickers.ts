import { status } from '@grpc/grpc-js';
import { PICK_QUEUE, type PickArgs, type PickComplete, type PickFail, type Picker, type PickResult, type Subchannel } from './types';

/**
 * The standard pickers every policy publishes (grpc-go `balancer/base`, grpc-js `picker.ts`), exported
 * for custom policies. Each is O(1) per pick and allocates nothing per pick.
 */

/**
 * The error a policy reports (TRANSIENT_FAILURE, and the failing picks' details) when the resolver
 * returned an empty endpoint list: nothing can serve a call (`doc/load-balancing.md`).
 */
export const NO_ADDRESSES_ERROR = 'resolver returned no addresses';

/** A picker that queues every pick: used while a policy is CONNECTING (`doc/load-balancing.md`). */
export const QUEUE_PICKER: Picker = Object.freeze({ pick: (): PickResult => PICK_QUEUE });

/**
 * The preallocated, frozen pick result for one subchannel, so pickers hand out the same object on
 * every pick and allocate nothing (grpc-go `balancer.Picker` contract).
 * @param subchannel where attempts picked with this result go.
 */
export function completePick(subchannel: Subchannel): PickComplete {
  return Object.freeze({ type: 'complete', subchannel });
}

/** A picker that always returns one result; `result` is readable so a parent can use it directly. */
export interface SinglePicker extends Picker {
  readonly result: PickComplete;
}

/** A picker that always sends the attempt to one subchannel (pick_first's READY picker). */
export function singlePicker(result: PickComplete): SinglePicker {
  return Object.freeze({ result, pick: (): PickResult => result });
}

/**
 * A picker for TRANSIENT_FAILURE: every pick fails with UNAVAILABLE and `details` (the channel queues
 * wait-for-ready calls instead). The result object is built once, not per pick.
 */
export function failPicker(details: string): Picker {
  const result: PickFail = Object.freeze({ type: 'fail', status: Object.freeze({ code: status.UNAVAILABLE, details }) });
  return Object.freeze({ pick: (): PickResult => result });
}

/**
 * A picker for IDLE: the first pick asks the policy to reconnect, every pick queues. `exitIdle` runs
 * in a microtask, not inside `pick`, so the channel never sees `updateState` re-entered from its own
 * pick; the policy's `exitIdle` must be a no-op once closed or no longer IDLE.
 */
export function idlePicker(exitIdle: () => void): Picker {
  let requested = false;
  return {
    pick(): PickResult {
      if (!requested) {
        requested = true;
        queueMicrotask(exitIdle);
      }
      return PICK_QUEUE;
    },
  };
}

/**
 * A round_robin picker (grpc `doc/load-balancing.md`): an immutable snapshot of the READY endpoints'
 * preallocated pick results, walked with a counter starting at `start` (randomized by the policy so
 * that many clients do not all hit the first backend first). When `args.previous` (earlier attempts
 * of a retried or hedged call, gRFC A6) contains the chosen subchannel, the picker moves on, at most
 * `min(previous.length, count - 1)` extra steps, so the cost stays bounded by the number of attempts
 * (at most 5 by default), never by the number of endpoints.
 *
 * @param results one preallocated result per READY endpoint; only `[0, count)` is read, so a policy
 *   may append to the array after publishing (not copied).
 * @param start the index of the first pick, in [0, count).
 * @param count how many entries of `results` this picker covers; default `results.length`; at least 1.
 */
export function roundRobinPicker(results: readonly PickComplete[], start: number, count = results.length): Picker {
  const n = count;
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

/** The details of an UNAVAILABLE pick failure after every connect attempt failed. */
export function allFailedDetails(lastError: string | undefined): string {
  return `failed to connect to all addresses; last error: ${lastError ?? 'unknown'}`;
}
