// The OTLP/HTTP trace receiver: `POST /v1/traces` with protobuf or JSON, optionally gzip, answered
// the way the OTLP/HTTP specification tells senders to expect: 200 with an
// ExportTraceServiceResponse in the request's encoding (with partialSuccess when spans were
// invalid), 400 with a google.rpc.Status for a body that cannot be decoded, 413 over the size
// limit (checked again after gunzip, so a zip bomb stops at the limit), 415 for other types.
import type * as http from 'node:http';
import { gunzip } from 'node:zlib';
import { ProtoWriter } from '../export/protobuf-writer.js';
import { describeError } from '../util/log.js';
import type { ViewSpan } from './model.js';
import { decodeOtlpJson, MalformedJson } from './otlp-json-decoder.js';
import { decodeOtlpProtobuf } from './otlp-protobuf-decoder.js';
import { MalformedProtobuf } from './protobuf-reader.js';
import type { TraceStore } from './store.js';
import type { LogStore } from './log-store.js';
import { decodeOtlpLogsJson, decodeOtlpLogsProtobuf } from './otlp-logs-decoder.js';
import { invalidReason } from './view-span.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
export const OTLP_TRACES_PATH = '/v1/traces';
export const OTLP_LOGS_PATH = '/v1/logs';

// google.rpc.Code values used in Status bodies.
const CODE_INVALID_ARGUMENT = 3;
const CODE_RESOURCE_EXHAUSTED = 8;
const CODE_UNIMPLEMENTED = 12;
const CODE_UNAVAILABLE = 14;
const CODE_INTERNAL = 13;
// After answering 413 we keep reading (so the sender sees the answer, not a reset) but only this much.
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

export interface ReceiverOptions {
  store: TraceStore;
  /** Where `POST /v1/logs` records go; without it that path is not served. */
  logs?: LogStore;
  /** Largest body accepted, compressed and uncompressed. */
  maxBodyBytes?: number;
  /**
   * Bytes all requests together may hold while their bodies arrive. Past it, a request is answered
   * 503 with Retry-After (OTLP senders retry those), so many large bodies at once cannot exhaust memory.
   */
  maxInFlightBytes?: number;
  /** Called with the spans the store accepted (not duplicates), e.g. to append them to a file. */
  onAccepted?: (spans: readonly ViewSpan[]) => void;
  /**
   * Called when a request is refused (HTTP 400, 413, 415; `gRPC INVALID_ARGUMENT` ... on the gRPC port), so the
   * user can see why a sender's spans are missing.
   */
  onRefused?: (status: number | string, message: string) => void;
}

type Encoding = 'protobuf' | 'json';

/** What the receiver concluded about one request (exported for tests of the answers). */
export interface ReceiveResult {
  status: number;
  accepted: number;
  rejected: number;
  message: string;
}

/** Returns the request handler of the OTLP port. */
export function createOtlpHandler(options: ReceiverOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  let inFlight = 0;
  return (req, res) => {
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0];
    const signal = pathname === OTLP_TRACES_PATH ? 'traces' : pathname === OTLP_LOGS_PATH && options.logs !== undefined ? 'logs' : null;
    if (signal === null) return plain(res, 404, `not found: this port receives OTLP traces at POST ${OTLP_TRACES_PATH}${options.logs ? ` and logs at POST ${OTLP_LOGS_PATH}` : ''}`);
    const work = signal === 'traces' ? receive : receiveLogs;
    if (req.method !== 'POST') return plain(res, 405, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const contentType = String(req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    // `application/protobuf` is the registered name some senders use for the same bytes.
    const encoding: Encoding | null = contentType === 'application/x-protobuf' || contentType === 'application/protobuf' ? 'protobuf' : contentType === 'application/json' ? 'json' : null;
    if (encoding === null) return refuse(res, options, 415, 'json', CODE_UNIMPLEMENTED, `unsupported content type "${contentType}": send application/x-protobuf or application/json`);
    const contentEncoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') return refuse(res, options, 415, encoding, CODE_UNIMPLEMENTED, `unsupported content encoding "${contentEncoding}": send gzip or none`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(req, res, encoding, options, maxBodyBytes);

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let held = 0;
    const release = (): void => {
      inFlight -= held;
      held = 0;
    };
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        release();
        tooLarge(req, res, encoding, options, maxBodyBytes);
        return;
      }
      if (inFlight + chunk.length > maxInFlightBytes) {
        refused = true;
        chunks.length = 0;
        release();
        busy(req, res, encoding, options);
        return;
      }
      inFlight += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
    });
    req.on('error', () => {
      // The sender went away mid-body: nothing to answer.
    });
    // However the request ends (answered, refused, aborted), its bytes stop counting.
    req.on('close', release);
    req.on('end', () => {
      if (refused) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      if (contentEncoding !== 'gzip') {
        settle(res, encoding, options, () => work(raw, encoding, options));
        release();
        return;
      }
      gunzip(raw, { maxOutputLength: maxBodyBytes }, (err, body) => {
        release();
        if (err === null) return settle(res, encoding, options, () => work(body, encoding, options));
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          refuse(res, options, 413, encoding, CODE_RESOURCE_EXHAUSTED, `body is over the limit of ${maxBodyBytes} bytes once decompressed`);
        } else refuse(res, options, 400, encoding, CODE_INVALID_ARGUMENT, `body is not valid gzip: ${err.message}`);
      });
    });
  };
}

/** Decodes, validates and stores one request body (already decompressed). */
export function receive(body: Buffer, encoding: Encoding, options: ReceiverOptions): ReceiveResult {
  let spans: ViewSpan[];
  try {
    spans = (encoding === 'protobuf' ? decodeOtlpProtobuf(body) : decodeOtlpJson(body)).spans;
  } catch (err) {
    const why = err instanceof MalformedProtobuf || err instanceof MalformedJson ? err.message : describeError(err);
    return { status: 400, accepted: 0, rejected: 0, message: `malformed ${encoding === 'protobuf' ? 'protobuf' : 'JSON'} ExportTraceServiceRequest: ${why}` };
  }
  let rejected = 0;
  let firstReason = '';
  const valid: ViewSpan[] = [];
  for (const span of spans) {
    const reason = invalidReason(span);
    if (reason === null) valid.push(span);
    else {
      rejected++;
      if (firstReason === '') firstReason = reason;
    }
  }
  const added = options.store.add(valid);
  if (added.length > 0) options.onAccepted?.(added);
  const message = rejected === 0 ? '' : `${rejected} span(s) rejected; first: ${firstReason}`;
  return { status: 200, accepted: added.length, rejected, message };
}

/**
 * Decodes and stores one `ExportLogsServiceRequest` body. Records without a trace are accepted and
 * not kept (the viewer shows records beside their spans); none is "rejected" for it.
 */
export function receiveLogs(body: Buffer, encoding: Encoding, options: ReceiverOptions): ReceiveResult {
  let records;
  try {
    records = encoding === 'protobuf' ? decodeOtlpLogsProtobuf(body) : decodeOtlpLogsJson(body);
  } catch (err) {
    const why = err instanceof MalformedProtobuf || err instanceof MalformedJson ? err.message : describeError(err);
    return { status: 400, accepted: 0, rejected: 0, message: `malformed ${encoding === 'protobuf' ? 'protobuf' : 'JSON'} ExportLogsServiceRequest: ${why}` };
  }
  const kept = options.logs?.add(records) ?? 0;
  return { status: 200, accepted: kept, rejected: 0, message: '' };
}

/** Answers with what `work` concluded; a bug of ours becomes a 500 for this request, never a crashed viewer. */
function settle(res: http.ServerResponse, encoding: Encoding, options: ReceiverOptions, work: () => ReceiveResult): void {
  let result: ReceiveResult;
  try {
    result = work();
  } catch (err) {
    options.onRefused?.(500, `internal error: ${describeError(err)}`);
    return status(res, 500, encoding, CODE_INTERNAL, `internal error in the viewer: ${describeError(err)}`);
  }
  answer(res, encoding, result, options);
}

function answer(res: http.ServerResponse, encoding: Encoding, result: ReceiveResult, options: ReceiverOptions): void {
  if (result.status !== 200) return refuse(res, options, result.status, encoding, CODE_INVALID_ARGUMENT, result.message);
  if (encoding === 'json') {
    const body = result.rejected === 0 ? {} : { partialSuccess: { rejectedSpans: String(result.rejected), errorMessage: result.message } };
    return send(res, 200, 'application/json', Buffer.from(JSON.stringify(body)));
  }
  const w = new ProtoWriter(256);
  if (result.rejected > 0) {
    // ExportTraceServiceResponse.partial_success (1) { rejected_spans (1), error_message (2) }
    const m = w.begin(1);
    w.int64(1, result.rejected);
    w.string(2, result.message);
    w.end(m);
  }
  send(res, 200, 'application/x-protobuf', w.finish());
}

/** A google.rpc.Status body (code, message) in the request's encoding. */
function status(res: http.ServerResponse, httpStatus: number, encoding: Encoding, code: number, message: string, extra: Record<string, string> = {}): void {
  if (encoding === 'json') return send(res, httpStatus, 'application/json', Buffer.from(JSON.stringify({ code, message })), extra);
  const w = new ProtoWriter(256);
  w.uint32(1, code);
  w.string(2, message);
  send(res, httpStatus, 'application/x-protobuf', w.finish(), extra);
}

/** Answers a refused request: counted in the stats, reported, and a Status body in the request's encoding. */
function refuse(res: http.ServerResponse, options: ReceiverOptions, httpStatus: number, encoding: Encoding, code: number, message: string, extra: Record<string, string> = {}): void {
  options.store.countRejectedRequest();
  options.onRefused?.(httpStatus, message);
  status(res, httpStatus, encoding, code, message, extra);
}

function tooLarge(req: http.IncomingMessage, res: http.ServerResponse, encoding: Encoding, options: ReceiverOptions, limit: number): void {
  refuse(res, options, 413, encoding, CODE_RESOURCE_EXHAUSTED, `body is over the limit of ${limit} bytes`, { connection: 'close' });
  discard(req);
}

/** Reads and drops the rest of a refused body, so the sender sees our answer rather than a reset (up to a cap). */
function discard(req: http.IncomingMessage): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARD_BYTES) req.destroy();
  });
  req.resume();
}

function busy(req: http.IncomingMessage, res: http.ServerResponse, encoding: Encoding, options: ReceiverOptions): void {
  refuse(res, options, 503, encoding, CODE_UNAVAILABLE, 'too many large requests at once; retry shortly', { 'retry-after': '1', connection: 'close' });
  discard(req);
}

function plain(res: http.ServerResponse, httpStatus: number, message: string, extra: Record<string, string> = {}): void {
  send(res, httpStatus, 'application/json', Buffer.from(JSON.stringify({ code: httpStatus === 404 ? 5 : CODE_UNIMPLEMENTED, message })), extra);
}

function send(res: http.ServerResponse, httpStatus: number, type: string, body: Buffer, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(httpStatus, { 'content-type': type, 'content-length': String(body.length), 'x-content-type-options': 'nosniff', ...extra });
  res.end(body);
}
