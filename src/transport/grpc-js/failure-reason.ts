import { Metadata, credentials } from '@grpc/grpc-js';
import type { GrpcChannelLike } from './channel-options';

/** A method name no server implements; the probe never reaches a server anyway (see below). */
const PROBE_METHOD = '/switchyard.internal.ConnectProbe/Probe';

/**
 * Call credentials that always fail. grpc-js generates call credentials only after a pick succeeded
 * and before it opens a stream, so even if the connection became READY under the probe, the probe
 * would fail locally instead of being sent.
 */
const NEVER_SEND = credentials.createFromMetadataGenerator((_params, callback) => {
  callback(new Error('switchyard connect probe is never sent'));
});

const PREFIX = 'No connection established. Last error: ';
const SUFFIX = '. Resolution note:';
// grpc-js appends the time of the failure to some errors: "Failed to connect (2026-01-01T00:00:00.000Z)".
const TIMESTAMP = / \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/;

/**
 * Ask a grpc-js channel that just reported TRANSIENT_FAILURE why its connection failed. grpc-js's public
 * API exposes the reason only in the status of a call that fails its pick, so this starts one
 * non-wait-for-ready call that fails at once with `UNAVAILABLE: No connection established. Last error:
 * ...` and extracts the error. Call it synchronously from the state watcher, before anything closes
 * the channel (a closed channel fails calls with a generic message).
 *
 * @param channel a grpc-js channel in TRANSIENT_FAILURE.
 * @param onReason called once, asynchronously (within a few ms), with the reason or `undefined` when
 *   grpc-js did not say.
 */
export function probeConnectFailure(channel: GrpcChannelLike, onReason: (reason: string | undefined) => void): void {
  let call;
  try {
    call = channel.createCall(PROBE_METHOD, Infinity, null, null, null);
  } catch {
    // The channel was shut down under us: no reason to read.
    queueMicrotask(() => onReason(undefined));
    return;
  }
  call.setCredentials(NEVER_SEND);
  call.start(new Metadata(), {
    onReceiveMetadata() {},
    onReceiveMessage() {},
    onReceiveStatus: (status) => onReason(parseConnectFailure(status.details)),
  });
  call.halfClose();
}

/**
 * Extract the connection error from grpc-js's pick-failure details
 * (`No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: `
 * → `connect ECONNREFUSED 127.0.0.1:1`).
 *
 * @returns the error text, or `undefined` when `details` is not a grpc-js connection failure.
 */
export function parseConnectFailure(details: string): string | undefined {
  if (!details.startsWith(PREFIX)) return undefined;
  const end = details.lastIndexOf(SUFFIX);
  let reason = details.slice(PREFIX.length, end < PREFIX.length ? undefined : end).trim();
  reason = reason.replace(TIMESTAMP, '');
  if (reason.startsWith('Error: ')) reason = reason.slice('Error: '.length);
  return reason === '' || reason === 'null' || reason === 'undefined' ? undefined : reason;
}
