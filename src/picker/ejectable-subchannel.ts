import { connectivityState } from '@grpc/grpc-js';
import type { Address } from '../resolver/types';
import type { ConnectivityState, PickComplete, Subchannel, SubchannelStream, SubchannelStateListener } from './types';

/**
 * A subchannel as `outlier_detection` hands it to its child policy (gRFC A50 "Subchannel Wrapper"):
 * the wrapped subchannel's state, except that while ejected it reports TRANSIENT_FAILURE and passes no
 * updates along; un-ejecting reports the wrapped state again. The connection is kept throughout (A50
 * "Ejection Reporting"), so a reinstated endpoint is usable at once. Calls go to the wrapped subchannel.
 */
export class EjectableSubchannel<E> implements Subchannel {
  readonly address: Address;
  readonly key: string;
  /** The outlier-detection entry of this subchannel's endpoint, if the address belongs to one. */
  endpoint: E | undefined;
  /** The counting pick result built for the child's last result for this subchannel (owned by the policy). */
  pickCache: { readonly childResult: PickComplete; readonly result: PickComplete } | undefined;
  private ejected = false;
  private readonly listeners = new Set<SubchannelStateListener>();
  private readonly onInner: SubchannelStateListener = (_sc, previous, next, error) => {
    if (!this.ejected) this.notify(previous, next, error);
  };

  constructor(readonly inner: Subchannel, endpoint: E | undefined) {
    this.address = inner.address;
    this.key = inner.key;
    this.endpoint = endpoint;
    inner.addStateListener(this.onInner);
  }

  get isEjected(): boolean {
    return this.ejected;
  }

  getState(): ConnectivityState {
    return this.ejected ? connectivityState.TRANSIENT_FAILURE : this.inner.getState();
  }

  getLastError(): string | undefined {
    return this.ejected ? `${this.key} ejected by outlier detection` : this.inner.getLastError();
  }

  connect(): void {
    this.inner.connect();
  }

  addStateListener(listener: SubchannelStateListener): void {
    this.listeners.add(listener);
  }

  removeStateListener(listener: SubchannelStateListener): void {
    this.listeners.delete(listener);
  }

  createStream(method: string, deadline: number, host?: string): SubchannelStream {
    return (this.inner.createStream as NonNullable<Subchannel['createStream']>).call(this.inner, method, deadline, host);
  }

  /** Report TRANSIENT_FAILURE and stop passing updates along. Idempotent. */
  eject(): void {
    if (this.ejected) return;
    const previous = this.inner.getState();
    this.ejected = true;
    this.notify(previous, connectivityState.TRANSIENT_FAILURE, this.getLastError());
  }

  /** Report the wrapped subchannel's state again and resume passing updates along. Idempotent. */
  uneject(): void {
    if (!this.ejected) return;
    this.ejected = false;
    const current = this.inner.getState();
    this.notify(connectivityState.TRANSIENT_FAILURE, current, this.inner.getLastError());
  }

  /** Detach from the wrapped subchannel (before releasing it) and drop listeners. */
  dispose(): void {
    this.inner.removeStateListener(this.onInner);
    this.listeners.clear();
  }

  private notify(previous: ConnectivityState, next: ConnectivityState, error: string | undefined): void {
    if (previous === next) return;
    for (const listener of [...this.listeners]) listener(this, previous, next, error);
  }
}
