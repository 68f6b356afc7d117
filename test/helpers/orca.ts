import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/**
 * ORCA messages serialized by protobufjs from the `.proto` files grpc-js ships (an independent encoder,
 * to check switchyard's hand-written decoder against). Field names are the proto names (snake_case).
 */
const root = path.dirname(require.resolve('@grpc/grpc-js/package.json'));
const definition = protoLoader.loadSync('xds/service/orca/v3/orca.proto', {
  keepCase: true,
  includeDirs: [path.join(root, 'proto/xds'), path.join(root, 'proto/protoc-gen-validate')],
});
const method = (definition['xds.service.orca.v3.OpenRcaService'] as unknown as Record<string, {
  responseSerialize(value: object): Buffer;
  requestDeserialize(bytes: Buffer): { report_interval?: { seconds?: string | number; nanos?: number } };
}>).StreamCoreMetrics!;

/** Serialize an `xds.data.orca.v3.OrcaLoadReport` (`cpu_utilization`, `rps_fractional`, `eps`, maps …). */
export function serializeOrcaLoadReport(report: Record<string, unknown>): Buffer {
  return method.responseSerialize(report);
}

/** The `report_interval` of a serialized `OrcaLoadReportRequest`, in ms (0 when unset). */
export function requestedIntervalMs(request: Buffer): number {
  const interval = method.requestDeserialize(request).report_interval;
  return interval === undefined ? 0 : Number(interval.seconds ?? 0) * 1000 + (interval.nanos ?? 0) / 1e6;
}
