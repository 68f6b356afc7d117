/** The ORCA load report decoder and request encoder (gRFC A51), against protobufjs's encoding. */
import { describe, expect, it } from 'vitest';
import { decodeOrcaLoadReport, emptyOrcaLoadReport, encodeOrcaLoadReportRequest } from '../../../src/picker/orca-load-report';
import { requestedIntervalMs, serializeOrcaLoadReport } from '../../helpers/orca';

describe('decodeOrcaLoadReport', () => {
  // Breaking a field number (e.g. reading eps from field 6) swaps the values below.
  it('reads the scalar fields of a report protobufjs serialized, skipping maps and the deprecated rps', () => {
    const bytes = serializeOrcaLoadReport({
      cpu_utilization: 0.5, mem_utilization: 0.75, rps: 7, request_cost: { db: 2 }, utilization: { disk: 0.1 },
      rps_fractional: 100.5, eps: 2, named_metrics: { x: 3 }, application_utilization: 0.25,
    });
    const report = emptyOrcaLoadReport();
    expect(decodeOrcaLoadReport(bytes, report)).toBe(true);
    expect(report).toEqual({ cpuUtilization: 0.5, memUtilization: 0.75, rpsFractional: 100.5, eps: 2, applicationUtilization: 0.25 });
  });

  it('resets fields absent from the next report, and reads an empty report as all 0', () => {
    const report = emptyOrcaLoadReport();
    decodeOrcaLoadReport(serializeOrcaLoadReport({ cpu_utilization: 0.5 }), report);
    expect(decodeOrcaLoadReport(Buffer.alloc(0), report)).toBe(true);
    expect(report.cpuUtilization).toBe(0);
  });

  it('rejects truncated or malformed input without throwing', () => {
    const bytes = serializeOrcaLoadReport({ cpu_utilization: 0.5, utilization: { a: 0.2 } });
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(() => decodeOrcaLoadReport(bytes.subarray(0, cut), emptyOrcaLoadReport())).not.toThrow();
    }
    expect(decodeOrcaLoadReport(bytes.subarray(0, 3), emptyOrcaLoadReport())).toBe(false);
    expect(decodeOrcaLoadReport(Buffer.from([0x0b]), emptyOrcaLoadReport())).toBe(false); // wire type 3 (groups)
  });
});

describe('encodeOrcaLoadReportRequest', () => {
  it('encodes report_interval as a Duration protobufjs reads back', () => {
    expect(requestedIntervalMs(encodeOrcaLoadReportRequest(1500))).toBe(1500);
    expect(requestedIntervalMs(encodeOrcaLoadReportRequest(10_000))).toBe(10_000);
    expect(requestedIntervalMs(encodeOrcaLoadReportRequest(250))).toBe(250);
  });
});
