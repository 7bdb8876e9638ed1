// An in-test trace receiver: OTLP/HTTP (protobuf and JSON) on /v1/traces and Zipkin v2 on
// /api/v2/spans, on 127.0.0.1 and a free port. Protobuf bodies are decoded with code generated
// from the official OpenTelemetry .proto files (shipped by @opentelemetry/otlp-transformer),
// never with our own decoder, so a passing test means a real Collector would accept the payload.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ScriptedReceiver, type FaultTiming } from './scripted-receiver.js';
import { gunzipSync } from 'node:zlib';

/** An attribute value as received (arrays: OTLP ArrayValue, holes as null). */
export type ReceivedValue = string | number | boolean | (string | number | boolean | null)[];

/** One OTLP span as received, flattened with its resource and scope. */
export interface ReceivedSpan {
  protocol: 'otlp-protobuf' | 'otlp-json' | 'otlp-grpc';
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, ReceivedValue>;
  events: { name: string; timeUnixNano: string; attributes: Record<string, ReceivedValue> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, ReceivedValue> }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  flags: number;
  resource: Record<string, ReceivedValue>;
  scope: { name: string; version: string };
}

/** One OTLP log record as received (official decoding for protobuf), flattened with its resource and scope. */
export interface ReceivedLog {
  protocol: 'otlp-protobuf' | 'otlp-json';
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  /** The body's string value ('' when absent or not a string). */
  body: string;
  attributes: Record<string, ReceivedValue>;
  /** '' when the record carries no trace. */
  traceId: string;
  spanId: string;
  flags: number;
  resource: Record<string, ReceivedValue>;
  scope: { name: string; version: string };
}

/** One Zipkin v2 span as received (the JSON object, unchanged). */
export interface ReceivedZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  duration: number;
  localEndpoint?: { serviceName?: string };
  remoteEndpoint?: Record<string, unknown>;
  tags?: Record<string, string>;
  annotations?: { timestamp: number; value: string }[];
}

/** One request as received, with what the collector answered. */
export interface ReceivedRequest {
  path: string;
  contentType: string;
  contentEncoding: string;
  /** Header names as received (lower case); values kept too, for auth-header tests. */
  headers: http.IncomingHttpHeaders;
  /** Body size on the wire. */
  bytes: number;
  /** The status the collector answered with; 0 while hanging. */
  status: number;
  receivedAt: number;
}

/**
 * How the collector misbehaves, for failure tests: besides `status`, never answer (`hang`: the socket
 * stays open until `close()`), answer late (`delayMs`), for the next `times` requests only.
 */
export interface Fault extends FaultTiming {
  /** Answer with this status (e.g. 500, 429, 400) instead of 200; the spans are not recorded. */
  status?: number;
  /** A `Retry-After` header value to send with `status`. */
  retryAfter?: string;
}

export interface CollectorOptions {
  /** Listen on this port (e.g. to come back up where a test said the backend was). Default: a free one. */
  port?: number;
  fault?: Fault;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

interface OfficialCodec {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, opts: Record<string, unknown>): unknown;
}

let codec: OfficialCodec | null = null;
export function officialRequestCodec(): OfficialCodec {
  if (codec === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
    codec = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest as OfficialCodec;
  }
  return codec;
}

let logsCodec: OfficialCodec | null = null;
function officialLogsCodec(): OfficialCodec {
  if (logsCodec === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
    logsCodec = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest as OfficialCodec;
  }
  return logsCodec;
}

/** A running receiver. Start with `Collector.start()`, stop with `close()`. */
export class Collector extends ScriptedReceiver<Fault> {
  /** OTLP spans received, in arrival order. */
  readonly spans: ReceivedSpan[] = [];
  /** Zipkin spans received, in arrival order. */
  readonly zipkinSpans: ReceivedZipkinSpan[] = [];
  /** OTLP log records received (`/v1/logs`), in arrival order. */
  readonly logs: ReceivedLog[] = [];
  /** Every request, failed ones included. */
  readonly requests: ReceivedRequest[] = [];
  /** Every accepted request body, decompressed: what a backend would store, for "never exported" checks. */
  readonly bodies: Buffer[] = [];
  /** Bodies that could not be decoded, with the reason; a test should expect none. */
  readonly decodeErrors: string[] = [];
  private constructor(private readonly server: http.Server | https.Server, fault: Fault | null, private readonly scheme = 'http') {
    super('collector');
    this.fault(fault);
  }

  /** Starts listening on 127.0.0.1. */
  static start(options: CollectorOptions = {}): Promise<Collector> {
    return new Promise((resolve, reject) => {
      const server = options.tls === undefined ? http.createServer() : https.createServer({ key: options.tls.key, cert: options.tls.cert });
      const collector = new Collector(server, options.fault ?? null, options.tls === undefined ? 'http' : 'https');
      server.on('request', (req, res) => collector.handle(req, res));
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve(collector));
    });
  }

  /** `http://127.0.0.1:<port>` (`https://` when started with `tls`). */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  /** Where OTLP exporters should send: `<url>/v1/traces`. */
  get otlpUrl(): string {
    return `${this.url}/v1/traces`;
  }
  /** Where Zipkin exporters should send: `<url>/api/v2/spans`. */
  get zipkinUrl(): string {
    return `${this.url}/api/v2/spans`;
  }

  /** Resolves with the OTLP spans once at least `count` arrived; rejects after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return this.waitFor(() => this.spans.length >= count, timeoutMs, () => `${this.spans.length} of ${count} OTLP spans`).then(() => this.spans);
  }

  /** Resolves with the OTLP log records once at least `count` arrived; rejects after `timeoutMs`. */
  waitForLogs(count: number, timeoutMs = 5000): Promise<ReceivedLog[]> {
    return this.waitFor(() => this.logs.length >= count, timeoutMs, () => `${this.logs.length} of ${count} OTLP log records`).then(() => this.logs);
  }

  /** Resolves with the Zipkin spans once at least `count` arrived; rejects after `timeoutMs`. */
  waitForZipkinSpans(count: number, timeoutMs = 5000): Promise<ReceivedZipkinSpan[]> {
    return this.waitFor(() => this.zipkinSpans.length >= count, timeoutMs, () => `${this.zipkinSpans.length} of ${count} Zipkin spans`).then(() => this.zipkinSpans);
  }

  /** Resolves once at least `count` requests arrived (answered or not). */
  waitForRequests(count: number, timeoutMs = 5000): Promise<ReceivedRequest[]> {
    return this.waitFor(() => this.requests.length >= count, timeoutMs, () => `${this.requests.length} of ${count} requests`).then(() => this.requests);
  }

  /** Forgets everything received. */
  reset(): void {
    this.spans.length = 0;
    this.zipkinSpans.length = 0;
    this.logs.length = 0;
    this.requests.length = 0;
    this.decodeErrors.length = 0;
  }

  /** Stops listening and drops every open connection, hanging ones included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const record: ReceivedRequest = {
        path: (req.url ?? '').split('?')[0]!,
        contentType: String(req.headers['content-type'] ?? ''),
        contentEncoding: String(req.headers['content-encoding'] ?? ''),
        headers: req.headers,
        bytes: raw.length,
        status: 0,
        receivedAt: Date.now(),
      };
      this.requests.push(record);
      const fault = this.takeFault();
      const respond = (): void => {
        if (fault?.status !== undefined && fault.status !== 200) {
          record.status = fault.status;
          const headers: Record<string, string> = {};
          if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
          res.writeHead(fault.status, headers).end();
          this.received();
          return;
        }
        record.status = this.accept(record, raw);
        res.writeHead(record.status, { 'content-type': record.contentType || 'application/json' }).end();
        this.received();
      };
      this.answer(fault, respond);
    });
  }

  private accept(record: ReceivedRequest, raw: Buffer): number {
    try {
      const body = record.contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
      this.bodies.push(body);
      if (record.path === '/api/v2/spans') {
        for (const s of JSON.parse(body.toString('utf8')) as ReceivedZipkinSpan[]) this.zipkinSpans.push(s);
        return 202;
      }
      if (record.path === '/v1/logs') {
        if (record.contentType.startsWith('application/x-protobuf')) {
          const c = officialLogsCodec();
          const obj = c.toObject(c.decode(body), { longs: String, enums: Number, bytes: Buffer, defaults: false, arrays: true });
          this.addOtlpLogs(obj as OtlpLogsRequest, 'otlp-protobuf');
        } else if (record.contentType.startsWith('application/json')) {
          this.addOtlpLogs(JSON.parse(body.toString('utf8')) as OtlpLogsRequest, 'otlp-json');
        } else return 415;
        return 200;
      }
      if (record.path === '/v1/traces') {
        if (record.contentType.startsWith('application/x-protobuf')) {
          const c = officialRequestCodec();
          const obj = c.toObject(c.decode(body), { longs: String, enums: Number, bytes: Buffer, defaults: false, arrays: true });
          this.addOtlp(obj as OtlpRequest, 'otlp-protobuf');
        } else if (record.contentType.startsWith('application/json')) {
          this.addOtlp(JSON.parse(body.toString('utf8')) as OtlpRequest, 'otlp-json');
        } else return 415;
        return 200;
      }
      return 404;
    } catch (err) {
      this.decodeErrors.push(`${record.path} ${record.contentType}: ${(err as Error).message}`);
      return 400;
    }
  }

  private addOtlpLogs(req: OtlpLogsRequest, protocol: ReceivedLog['protocol']): void {
    for (const rl of req.resourceLogs ?? []) {
      const resource = attributesOf(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        const scope = { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' };
        for (const r of sl.logRecords ?? []) {
          this.logs.push({
            protocol,
            timeUnixNano: String(r.timeUnixNano ?? '0'),
            observedTimeUnixNano: String(r.observedTimeUnixNano ?? '0'),
            severityNumber: r.severityNumber ?? 0,
            severityText: r.severityText ?? '',
            body: r.body?.stringValue ?? '',
            attributes: attributesOf(r.attributes),
            traceId: hexOf(r.traceId),
            spanId: hexOf(r.spanId),
            flags: r.flags ?? 0,
            resource,
            scope,
          });
        }
      }
    }
  }

  private addOtlp(req: OtlpRequest, protocol: ReceivedSpan['protocol']): void {
    for (const span of flattenOtlpRequest(req, protocol)) this.spans.push(span);
  }
}

/** The spans of a decoded ExportTraceServiceRequest (protobufjs object or OTLP/JSON), flattened. */
export function flattenOtlpRequest(req: OtlpRequest, protocol: ReceivedSpan['protocol']): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      for (const s of ss.spans ?? []) {
        out.push({
          protocol,
          traceId: hexOf(s.traceId),
          spanId: hexOf(s.spanId),
          parentSpanId: hexOf(s.parentSpanId),
          traceState: s.traceState ?? '',
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: String(s.startTimeUnixNano ?? '0'),
          endTimeUnixNano: String(s.endTimeUnixNano ?? '0'),
          attributes: attributesOf(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name ?? '', timeUnixNano: String(e.timeUnixNano ?? '0'), attributes: attributesOf(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: hexOf(l.traceId), spanId: hexOf(l.spanId), attributes: attributesOf(l.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          flags: s.flags ?? 0,
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

// The OTLP request shape shared by protobufjs's toObject and OTLP/JSON (ids: bytes or hex).
type Id = string | Uint8Array | undefined;
interface OtlpAnyValue {
  stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string; version?: string };
      spans?: {
        traceId?: Id; spanId?: Id; parentSpanId?: Id; traceState?: string; name?: string; kind?: number;
        startTimeUnixNano?: string | number; endTimeUnixNano?: string | number; flags?: number;
        attributes?: OtlpKeyValue[];
        events?: { name?: string; timeUnixNano?: string | number; attributes?: OtlpKeyValue[] }[];
        links?: { traceId?: Id; spanId?: Id; attributes?: OtlpKeyValue[] }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}

interface OtlpLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: {
      scope?: { name?: string; version?: string };
      logRecords?: {
        timeUnixNano?: string | number; observedTimeUnixNano?: string | number; severityNumber?: number; severityText?: string;
        body?: { stringValue?: string }; attributes?: OtlpKeyValue[]; traceId?: Id; spanId?: Id; flags?: number;
      }[];
    }[];
  }[];
}

function hexOf(id: Id): string {
  if (id === undefined) return '';
  if (typeof id === 'string') return id;
  return Buffer.from(id).toString('hex');
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, ReceivedValue> {
  const out: Record<string, ReceivedValue> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    const scalar = scalarOf(v);
    if (scalar !== null) out[kv.key] = scalar;
    else if (v.arrayValue !== undefined) out[kv.key] = (v.arrayValue.values ?? []).map(scalarOf);
  }
  return out;
}

function scalarOf(v: OtlpAnyValue): string | number | boolean | null {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  return null;
}
