/** Shared pieces of the tests that drive subchannels directly (no channel, no proto). */
import * as grpc from '@grpc/grpc-js';
import type { ConnectivityState, Subchannel } from '../../src/picker/types';

/** The one method of {@link authorityService}. */
export const AUTHORITY_METHOD = '/switchyard.test.Authority/Get';

const identity = (value: Buffer): Buffer => value;

/** A one-method service whose handler answers with the `:authority` the server saw; Buffers on the wire. */
export const authorityService: grpc.ServiceDefinition = {
  Get: {
    path: AUTHORITY_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Resolves when the subchannel reaches `state`; rejects after a generous `withinMs` naming where it is. */
export function waitForSubchannelState(subchannel: Subchannel, state: ConnectivityState, withinMs = 10_000): Promise<void> {
  if (subchannel.getState() === state) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      subchannel.removeStateListener(listener);
      const now = grpc.connectivityState[subchannel.getState()];
      reject(new Error(`still ${now}, wanted ${grpc.connectivityState[state]} (last error: ${subchannel.getLastError()})`));
    }, withinMs);
    const listener = (_s: unknown, _p: ConnectivityState, next: ConnectivityState): void => {
      if (next !== state) return;
      clearTimeout(timer);
      subchannel.removeStateListener(listener);
      resolve();
    };
    subchannel.addStateListener(listener);
  });
}
