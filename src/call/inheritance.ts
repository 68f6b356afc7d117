import * as grpc from '@grpc/grpc-js';
import type { CallContext } from '../deadline/context';
import { deadlineFromGrpc } from '../deadline/deadline';

/** grpc-js's server call, the `parentCall` of `Channel.createCall` (its type is not exported by name). */
export type ParentCall = Parameters<grpc.ChannelInterface['createCall']>[3];

/**
 * The deadline an outgoing call inherits: the earliest of its own, a grpc-js `parent` call's (with
 * `propagate.DEADLINE` in `flags`) and the `propagateDeadlines` / `runWithDeadline` context's.
 *
 * @param deadline the call's own deadline, absolute ms since the epoch (`Infinity` for none).
 * @param flags grpc-js `propagate` flags of the call.
 * @returns an absolute deadline in ms since the epoch (`Infinity` for none).
 */
export function inheritedDeadline(deadline: number, parent: ParentCall, flags: number, context: CallContext | undefined): number {
  let result = deadline;
  if (parent !== null && flags & grpc.propagate.DEADLINE) result = Math.min(result, deadlineFromGrpc(parent.getDeadline()));
  if (context !== undefined) result = Math.min(result, context.deadline);
  return result;
}

/**
 * How long before an inherited deadline a cancellation of the incoming call counts as that deadline
 * expiring, in ms: a Node.js timer can fire before `Date.now()` reaches its due time, by as long as the
 * event-loop turn that armed it had already run.
 */
const DEADLINE_SLACK_MS = 20;

/**
 * Whether a cancellation of the grpc-js `parent` call or the `propagateDeadlines` context, arriving at
 * `now`, is the deadline the outgoing call inherited from it expiring: the incoming call is cancelled
 * when its deadline passes, and then the outgoing call ends DEADLINE_EXCEEDED, as its own timer would
 * have ended it (grpc-go's context reports DeadlineExceeded the same way). Any earlier cancellation is
 * a real one (CANCELLED).
 * @param now clock ms; `deadline` the outgoing call's effective deadline, absolute ms (`Infinity` for none).
 */
export function cancelledAtDeadline(now: number, deadline: number): boolean {
  return now >= deadline - DEADLINE_SLACK_MS;
}

/** Status details of a call cancelled because the `propagateDeadlines` / `runWithDeadline` context was. */
export const CONTEXT_CANCELLED_DETAILS = 'Cancelled by the incoming call';

/**
 * Cancel an outgoing call with its grpc-js `parent` call: `cancel` runs at most once, when the parent
 * emits `'cancelled'`, and only if `flags` holds `propagate.CANCELLATION` (grpc-js `CallOptions.propagate_flags`).
 * The context's cancellation is not handled here: the call registers with
 * `CallContext.addCancelListener` directly, which allocates nothing beyond its listener.
 *
 * @param cancel receives the status details to cancel with.
 * @returns the function that unsubscribes (call it when the outgoing call ends), or undefined when
 *   nothing was subscribed.
 */
export function subscribeParentCancellation(
  parent: ParentCall,
  flags: number,
  cancel: (details: string) => void,
): (() => void) | undefined {
  if (parent === null || (flags & grpc.propagate.CANCELLATION) === 0) return undefined;
  const onCancel = (): void => cancel('Cancelled by the parent call');
  parent.once('cancelled', onCancel);
  return () => parent.removeListener('cancelled', onCancel);
}
