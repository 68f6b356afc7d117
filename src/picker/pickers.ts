import { status } from '@grpc/grpc-js';
import { PICK_QUEUE, type PickComplete, type PickFail, type Picker, type PickResult, type Subchannel } from './types';

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
 */
export function completePick(subchannel: Subchannel): PickComplete {
  return Object.freeze({ type: 'complete', subchannel });
}

/** A picker that always sends the attempt to one subchannel (pick_first's READY picker). */
export function singlePicker(result: PickComplete): Picker {
  return Object.freeze({ pick: (): PickResult => result });
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

/** The details of an UNAVAILABLE pick failure after every connect attempt failed. */
export function allFailedDetails(lastError: string | undefined): string {
  return `failed to connect to all addresses; last error: ${lastError ?? 'unknown'}`;
}
