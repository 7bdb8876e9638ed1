// The few pieces of the gRPC wire protocol (over HTTP/2) that the OTLP/gRPC exporter and the
// viewer's OTLP/gRPC receiver need: message framing, status codes, `grpc-timeout`, `grpc-message`
// escaping and the `google.rpc.Status` details that carry `RetryInfo`. Written from the gRPC
// "PROTOCOL-HTTP2" document and the OTLP specification, so neither side needs `@grpc/grpc-js`.

/** The RPC that receives traces, as an HTTP/2 `:path`. */
export const OTLP_GRPC_TRACES_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** gRPC status codes (google.rpc.Code). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const CODE_NAMES: readonly string[] = Object.keys(GrpcCode);

/** `UNAVAILABLE` for 14; the number itself for codes outside the table. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? String(code);
}

/**
 * Whether the OTLP specification lets an exporter retry after `code`: CANCELLED, DEADLINE_EXCEEDED,
 * ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are transient; RESOURCE_EXHAUSTED only when the
 * server says recovery is possible by sending `RetryInfo`; everything else is final.
 */
export function isRetryableGrpcCode(code: number, hasRetryInfo: boolean): boolean {
  switch (code) {
    case GrpcCode.CANCELLED:
    case GrpcCode.DEADLINE_EXCEEDED:
    case GrpcCode.ABORTED:
    case GrpcCode.OUT_OF_RANGE:
    case GrpcCode.UNAVAILABLE:
    case GrpcCode.DATA_LOSS:
      return true;
    case GrpcCode.RESOURCE_EXHAUSTED:
      return hasRetryInfo;
    default:
      return false;
  }
}

/** The gRPC code a client infers from an HTTP status when the answer carries no `grpc-status`. */
export function grpcCodeFromHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/** One length-prefixed message: a compressed flag, four length bytes (big-endian), the bytes. */
export function frameMessage(message: Buffer, compressed: boolean): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + message.length);
  writeFramePrefix(frame, message.length, compressed);
  message.copy(frame, GRPC_PREFIX_BYTES);
  return frame;
}

/** Bytes of a message's prefix: the compressed flag and the 4-byte big-endian length. */
export const GRPC_PREFIX_BYTES = 5;

/** Writes a message's prefix at the start of `frame` (the message follows it). */
export function writeFramePrefix(frame: Buffer, messageLength: number, compressed: boolean): void {
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(messageLength, 1);
}

/** A message read from a request or response body. */
export interface GrpcMessage {
  compressed: boolean;
  bytes: Buffer;
}

/** Splits a whole body into its messages; throws on a truncated frame. */
export function readMessages(body: Buffer): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new Error('truncated gRPC message prefix');
    const flag = body[at]!;
    const length = body.readUInt32BE(at + 1);
    if (flag > 1) throw new Error(`unknown gRPC message flag ${flag}`);
    if (body.length - at - 5 < length) throw new Error(`truncated gRPC message (${length} bytes announced, ${body.length - at - 5} sent)`);
    out.push({ compressed: flag === 1, bytes: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** `grpc-timeout` for a deadline of `ms` milliseconds (at most 8 digits, as the protocol allows). */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}

/** `grpc-timeout` → milliseconds; null when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | null {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value.trim());
  if (m === null) return null;
  const n = Number(m[1]);
  const perUnit: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };
  return n * perUnit[m[2]!]!;
}

/** `grpc-message` is percent-encoded UTF-8 (bytes outside printable ASCII, and `%`). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// Field numbers: google.rpc.Status { code = 1, message = 2, details = 3 (Any) };
// google.protobuf.Any { type_url = 1, value = 2 }; google.rpc.RetryInfo { retry_delay = 1 (Duration) };
// google.protobuf.Duration { seconds = 1, nanos = 2 }.
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * The server-given retry delay in a `grpc-status-details-bin` trailer (base64 `google.rpc.Status`),
 * in milliseconds; null when the trailer is absent, unreadable or carries no `RetryInfo`.
 */
export function retryDelayFromStatusDetails(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  try {
    const status = Buffer.from(value, 'base64');
    let delay: number | null = null;
    walkFields(status, (field, wire, bytes) => {
      if (field !== 3 || wire !== 2) return;
      let typeUrl = '';
      let inner: Buffer | null = null;
      walkFields(bytes!, (f, w, b) => {
        if (f === 1 && w === 2) typeUrl = b!.toString('utf8');
        else if (f === 2 && w === 2) inner = b!;
      });
      if (typeUrl !== RETRY_INFO_TYPE || inner === null) return;
      let ms = 0;
      walkFields(inner, (f, w, b) => {
        if (f !== 1 || w !== 2) return;
        walkFields(b!, (df, dw, _db, n) => {
          if (dw !== 0) return;
          if (df === 1) ms += n * 1000;
          else if (df === 2) ms += n / 1e6;
        });
      });
      delay = Math.max(0, ms);
    });
    return delay;
  } catch {
    return null;
  }
}

/** A `google.rpc.Status` carrying a `RetryInfo` of `delayMs`, base64 (what servers send; tests and the viewer). */
export function encodeRetryInfoDetails(code: number, message: string, delayMs: number): string {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = Math.round((delayMs - seconds * 1000) * 1e6);
  const duration = Buffer.concat([varintField(1, seconds), varintField(2, nanos)]);
  const retryInfo = bytesField(1, duration);
  const any = Buffer.concat([bytesField(1, Buffer.from(RETRY_INFO_TYPE)), bytesField(2, retryInfo)]);
  return Buffer.concat([varintField(1, code), bytesField(2, Buffer.from(message)), bytesField(3, any)]).toString('base64');
}

/** `ExportTraceServiceResponse.partial_success` { rejected_spans = 1, error_message = 2 }, when present. */
export function readPartialSuccess(response: Buffer): { spans: number; message: string } | null {
  let result: { spans: number; message: string } | null = null;
  walkFields(response, (field, wire, bytes) => {
    if (field !== 1 || wire !== 2) return;
    const r = { spans: 0, message: '' };
    walkFields(bytes!, (f, w, b, n) => {
      if (f === 1 && w === 0) r.spans = n;
      else if (f === 2 && w === 2) r.message = b!.toString('utf8');
    });
    result = r;
  });
  return result;
}

/** Calls `visit` for each top-level field: length-delimited ones get their bytes, varints their value. */
function walkFields(buf: Buffer, visit: (field: number, wire: number, bytes: Buffer | null, n: number) => void): void {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  };
  while (at < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) visit(field, wire, null, varint());
    else if (wire === 2) {
      const len = varint();
      if (at + len > buf.length) throw new Error('truncated field');
      visit(field, wire, buf.subarray(at, at + len), 0);
      at += len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = Math.max(0, Math.floor(n));
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function varintField(field: number, n: number): Buffer {
  return Buffer.from([...varintBytes(field * 8), ...varintBytes(n)]);
}

function bytesField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varintBytes(field * 8 + 2), ...varintBytes(bytes.length)]), bytes]);
}
