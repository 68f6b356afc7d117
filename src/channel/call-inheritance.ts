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
 * Cancel an outgoing call with the incoming one: `cancel` runs at most once, when the grpc-js `parent`
 * call (with `propagate.CANCELLATION` in `flags`) emits `'cancelled'` or the context is cancelled. If the
 * context is already cancelled, `cancel` runs now (synchronously) and nothing stays subscribed.
 *
 * @param cancel receives the status details to cancel with.
 * @returns the function that unsubscribes (call it when the outgoing call ends), or undefined when
 *   nothing was subscribed.
 */
export function subscribeCancellation(
  parent: ParentCall,
  flags: number,
  context: CallContext | undefined,
  cancel: (details: string) => void,
): (() => void) | undefined {
  if (context?.cancelled) {
    cancel('Cancelled by the incoming call');
    return undefined;
  }
  let unsubscribeParent: (() => void) | undefined;
  if (parent !== null && flags & grpc.propagate.CANCELLATION) {
    const onCancel = (): void => cancel('Cancelled by the parent call');
    parent.once('cancelled', onCancel);
    unsubscribeParent = () => parent.removeListener('cancelled', onCancel);
  }
  if (context === undefined || context.source === undefined) return unsubscribeParent;
  const unsubscribeContext = context.onCancel(() => cancel('Cancelled by the incoming call'));
  if (unsubscribeParent === undefined) return unsubscribeContext;
  return () => {
    unsubscribeParent();
    unsubscribeContext();
  };
}
