import { Metadata, connectivityState, status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../clock';
import { decodeOrcaLoadReport, emptyOrcaLoadReport, encodeOrcaLoadReportRequest, type OrcaLoadReport } from './orca-load-report';
import type { Subchannel, SubchannelStream, SubchannelStateListener } from './types';

/** The out-of-band ORCA method (gRFC A51): server streaming, one `OrcaLoadReport` per interval. */
export const ORCA_OOB_METHOD = '/xds.service.orca.v3.OpenRcaService/StreamCoreMetrics';

/** A running OOB watch on one subchannel. */
export interface OrcaOobWatch {
  /** Stop watching: cancel the stream and any retry timer, detach from the subchannel. Idempotent. */
  stop(): void;
}

/**
 * Watch a subchannel's out-of-band load reports (gRFC A51 "Out-of-Band Metrics Reporting"): while the
 * subchannel is READY, one `StreamCoreMetrics` stream with `report_interval = intervalMs`, opened the
 * way client-side health checking opens its `Health/Watch` stream (through `Subchannel.createStream`),
 * each response decoded and handed to `onReport` (the same object every time: copy what you keep).
 *
 * - The stream stops when the subchannel leaves READY and starts again when it is READY again.
 * - A stream that ends while the subchannel is READY is reopened one `intervalMs` later (the server
 *   reports no more often than that anyway), on `clock`; UNIMPLEMENTED means the server has no ORCA
 *   service, and is not retried on that connection.
 * - A subchannel without `createStream` (a test double, or a wrapper that does not forward it) is never
 *   watched.
 *
 * @param intervalMs requested reporting interval in ms (`oobReportingPeriod` of gRFC A58).
 */
export function watchOrcaOob(
  subchannel: Subchannel,
  intervalMs: number,
  clock: Clock,
  onReport: (report: Readonly<OrcaLoadReport>) => void,
): OrcaOobWatch {
  const report = emptyOrcaLoadReport();
  const request = encodeOrcaLoadReportRequest(intervalMs);
  let call: SubchannelStream | undefined;
  let retry: TimerHandle | undefined;
  let unimplemented = false;
  let stopped = false;

  const start = (): void => {
    retry = undefined;
    if (stopped || call !== undefined || unimplemented || subchannel.createStream === undefined) return;
    if (subchannel.getState() !== connectivityState.READY) return;
    const current = subchannel.createStream(ORCA_OOB_METHOD, Infinity);
    call = current;
    current.start(new Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        if (call !== current) return;
        if (decodeOrcaLoadReport(message, report)) onReport(report);
        if (call === current) current.startRead();
      },
      onReceiveStatus(status: StatusObject) {
        if (call !== current) return;
        call = undefined;
        if (status.code === grpcStatus.UNIMPLEMENTED) unimplemented = true;
        else if (!stopped) retry = clock.setTimeout(start, intervalMs);
      },
    });
    current.sendMessageWithContext({}, request);
    current.halfClose();
    current.startRead();
  };

  const cancel = (): void => {
    const current = call;
    call = undefined;
    current?.cancelWithStatus(grpcStatus.CANCELLED, 'ORCA out-of-band watch stopped');
    if (retry !== undefined) clock.clearTimeout(retry);
    retry = undefined;
  };

  const listener: SubchannelStateListener = (_sc, _previous, next) => {
    if (next === connectivityState.READY) {
      start();
    } else {
      cancel();
      // A new connection may have an ORCA service.
      if (next !== connectivityState.TRANSIENT_FAILURE && next !== connectivityState.CONNECTING) unimplemented = false;
    }
  };
  subchannel.addStateListener(listener);
  start();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      subchannel.removeStateListener(listener);
      cancel();
    },
  };
}
