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
