/**
 * The two messages of `grpc.health.v1` (grpc/grpc `doc/health-checking.md`), hand-encoded so that no
 * proto file or protobuf runtime is needed: `HealthCheckRequest { string service = 1; }` and
 * `HealthCheckResponse { ServingStatus status = 1; }`.
 */

/** The full method path of the streaming health check used by gRFC A17. */
export const HEALTH_WATCH_METHOD = '/grpc.health.v1.Health/Watch';

/** `HealthCheckResponse.ServingStatus` values (`doc/health-checking.md`). */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  /** Sent only by `Watch` when the server does not know the requested service. */
  SERVICE_UNKNOWN: 3,
} as const;

const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * A readable name for a serving status; values outside the enum (proto3 enums are open) read
 * `UNKNOWN_STATUS_<n>`.
 * @param value the decoded `status` field.
 */
export function servingStatusName(value: number): string {
  return STATUS_NAMES[value] ?? `UNKNOWN_STATUS_${value}`;
}

/**
 * Serialize `HealthCheckRequest { service }`. An empty name encodes to an empty message, as proto3
 * omits fields holding their default value.
 * @param service the service name from `healthCheckConfig.serviceName` (gRFC A17), possibly `""`.
 * @returns the protobuf wire bytes.
 */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const text = Buffer.from(service, 'utf8');
  const length = encodeVarint(text.length);
  // Field 1, wire type 2 (length-delimited): tag byte (1 << 3) | 2.
  return Buffer.concat([Buffer.from([0x0a]), length, text]);
}

/**
 * Parse `HealthCheckResponse` and return its `status` (0 when absent, as proto3 defaults it). Unknown
 * fields are skipped; when field 1 repeats, the last value wins (protobuf merge semantics).
 * @param message the wire bytes of one response message.
 * @returns the serving status number (see {@link ServingStatus}).
 * @throws Error when the bytes are not a well-formed protobuf message.
 */
export function decodeHealthCheckResponse(message: Buffer): number {
  let status = 0;
  let offset = 0;
  while (offset < message.length) {
    const tag = readVarint(message, offset);
    offset = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (field === 0) throw new Error('invalid HealthCheckResponse: field number 0');
    switch (wireType) {
      case 0: {
        const value = readVarint(message, offset);
        offset = value.next;
        // An enum is an int32 on the wire; keep its low 32 bits as a signed number.
        if (field === 1) status = value.value | 0;
        break;
      }
      case 1:
        offset += 8;
        break;
      case 2: {
        const length = readVarint(message, offset);
        offset = length.next + length.value;
        break;
      }
      case 5:
        offset += 4;
        break;
      default:
        throw new Error(`invalid HealthCheckResponse: wire type ${wireType}`);
    }
    if (offset > message.length) throw new Error('invalid HealthCheckResponse: truncated field');
  }
  return status;
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Reads a varint of up to 10 bytes; values above 2^53 lose precision, which only affects skipped fields. */
function readVarint(buffer: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let offset = start; offset < buffer.length && offset - start < 10; offset++) {
    const byte = buffer[offset]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: offset + 1 };
    scale *= 0x80;
  }
  throw new Error('invalid HealthCheckResponse: truncated or overlong varint');
}
