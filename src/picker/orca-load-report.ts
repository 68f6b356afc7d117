/**
 * The ORCA load report (gRFC A51): a serialized `xds.data.orca.v3.OrcaLoadReport`
 * (`xds/data/orca/v3/orca_load_report.proto`), decoded with a small protobuf reader built once, so a
 * per-call report costs a few field reads and no allocation (grpc-js 1.14 reloads the proto definition
 * for every report).
 */

/** The trailer that carries a per-call report (gRFC A51). */
export const ORCA_TRAILER = 'endpoint-load-metrics-bin';

/** The scalar fields of an `OrcaLoadReport` that load balancing uses (0 when absent, as in proto3). */
export interface OrcaLoadReport {
  /** Field 1, `cpu_utilization`. */
  cpuUtilization: number;
  /** Field 2, `mem_utilization`. */
  memUtilization: number;
  /** Field 6, `rps_fractional`: queries per second. */
  rpsFractional: number;
  /** Field 7, `eps`: errors per second. */
  eps: number;
  /** Field 9, `application_utilization`. */
  applicationUtilization: number;
}

/** A report with every field 0: the target of {@link decodeOrcaLoadReport}. */
export function emptyOrcaLoadReport(): OrcaLoadReport {
  return { cpuUtilization: 0, memUtilization: 0, rpsFractional: 0, eps: 0, applicationUtilization: 0 };
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/**
 * Decode `bytes` into `into` (every field reset to 0 first). The maps (`request_cost`, `utilization`,
 * `named_metrics`) and the deprecated `rps` are skipped; unknown fields are skipped by wire type.
 * @returns false (with `into` partly filled) if `bytes` is not a well-formed message.
 */
export function decodeOrcaLoadReport(bytes: Buffer, into: OrcaLoadReport): boolean {
  into.cpuUtilization = 0;
  into.memUtilization = 0;
  into.rpsFractional = 0;
  into.eps = 0;
  into.applicationUtilization = 0;
  const end = bytes.length;
  let offset = 0;
  while (offset < end) {
    // Keys of this message fit one byte (field numbers < 16); longer keys are read as varints.
    let key = bytes[offset++] as number;
    if (key > 0x7f) {
      const read = readVarint(bytes, offset - 1);
      if (read < 0) return false;
      key = varintValue;
      offset = read;
    }
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === FIXED64) {
      if (offset + 8 > end) return false;
      const value = bytes.readDoubleLE(offset);
      offset += 8;
      switch (field) {
        case 1: into.cpuUtilization = value; break;
        case 2: into.memUtilization = value; break;
        case 6: into.rpsFractional = value; break;
        case 7: into.eps = value; break;
        case 9: into.applicationUtilization = value; break;
        default: break;
      }
    } else if (wireType === VARINT) {
      offset = readVarint(bytes, offset);
      if (offset < 0) return false;
    } else if (wireType === LENGTH_DELIMITED) {
      const next = readVarint(bytes, offset);
      if (next < 0 || next + varintValue > end) return false;
      offset = next + varintValue;
    } else if (wireType === FIXED32) {
      offset += 4;
      if (offset > end) return false;
    } else {
      return false;
    }
  }
  return true;
}

/** The value of the last varint read by {@link readVarint} (a module slot: no allocation per read). */
let varintValue = 0;

/** Read a varint at `offset` into {@link varintValue}; returns the offset after it, or -1 if truncated or too long. */
function readVarint(bytes: Buffer, offset: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (offset >= bytes.length) return -1;
    const byte = bytes[offset++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintValue = value;
      return offset;
    }
    scale *= 128;
  }
  return -1;
}

/** Append `value` (a non-negative integer below 2^53) as a varint. */
function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * Serialize `xds.service.orca.v3.OrcaLoadReportRequest{ report_interval }` (field 1, a
 * `google.protobuf.Duration`: seconds field 1, nanos field 2) for the OOB stream's request.
 * @param intervalMs the requested reporting interval, ms (non-negative).
 */
export function encodeOrcaLoadReportRequest(intervalMs: number): Buffer {
  const seconds = Math.floor(intervalMs / 1000);
  const nanos = Math.round((intervalMs - seconds * 1000) * 1e6);
  const duration: number[] = [];
  if (seconds > 0) {
    duration.push(0x08);
    writeVarint(duration, seconds);
  }
  if (nanos > 0) {
    duration.push(0x10);
    writeVarint(duration, nanos);
  }
  const out: number[] = [0x0a];
  writeVarint(out, duration.length);
  return Buffer.from([...out, ...duration]);
}
