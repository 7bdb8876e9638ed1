// An in-test OTLP/gRPC collector: a real `@grpc/grpc-js` server serving
// opentelemetry.proto.collector.trace.v1.TraceService/Export on 127.0.0.1 and a free port, whose
// messages are encoded and decoded by the code generated from the official OpenTelemetry .proto
// files (shipped by @opentelemetry/otlp-transformer), never by ours. A passing test therefore means
// a real gRPC Collector would accept the call.
import * as grpc from '@grpc/grpc-js';
import { ScriptedReceiver, type FaultTiming } from './scripted-receiver.js';
import { flattenOtlpRequest, type OtlpRequest, type ReceivedSpan } from './collector.js';

interface GeneratedMessage {
  decode(buf: Uint8Array): unknown;
  encode(msg: unknown): { finish(): Uint8Array };
  create(props: Record<string, unknown>): unknown;
  toObject(msg: unknown, opts: Record<string, unknown>): unknown;
}

function generated(): { request: GeneratedMessage; response: GeneratedMessage } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  const v1 = root.opentelemetry.proto.collector.trace.v1;
  return { request: v1.ExportTraceServiceRequest, response: v1.ExportTraceServiceResponse };
}

/**
 * How the collector answers, for failure tests: besides these, never answer (`hang`: until the
 * caller's deadline or `close()`), answer late (`delayMs`), for the next `times` calls only.
 */
export interface GrpcFault extends FaultTiming {
  /** Answer with this gRPC status code instead of OK; the spans are not recorded. */
  code?: number;
  message?: string;
  /** Send a google.rpc.RetryInfo with this delay in grpc-status-details-bin. */
  retryDelayMs?: number;
  /** Accept, but answer with a partial success rejecting this many spans. */
  rejectSpans?: { count: number; message: string };
}

/** One Export call as received. */
export interface GrpcCall {
  /** Metadata as the server saw it (user headers, lower case). */
  metadata: Record<string, string>;
  /** The deadline the client sent, in ms from receipt (Infinity when none). */
  deadlineMs: number;
  spans: number;
  /** The code we answered (-1 while hanging). */
  code: number;
}

export class GrpcCollector extends ScriptedReceiver<GrpcFault> {
  readonly spans: ReceivedSpan[] = [];
  readonly calls: GrpcCall[] = [];
  private readonly pending = new Set<() => void>();

  private constructor(private readonly server: grpc.Server, readonly port: number) {
    super('grpc collector');
  }

  static async start(options: { port?: number; fault?: GrpcFault } = {}): Promise<GrpcCollector> {
    const { request, response } = generated();
    const server = new grpc.Server();
    let collector: GrpcCollector | null = null;
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: unknown) => Buffer.from(request.encode(m).finish()),
        requestDeserialize: (b: Buffer) => request.decode(b),
        responseSerialize: (m: unknown) => Buffer.from(response.encode(m).finish()),
        responseDeserialize: (b: Buffer) => response.decode(b),
        originalName: 'export',
      },
    };
    server.addService(definition, {
      Export: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => collector!.handle(call, callback, request, response),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))),
    );
    collector = new GrpcCollector(server, port);
    collector.fault(options.fault ?? null);
    return collector;
  }

  /** `http://127.0.0.1:<port>`: the exporter's endpoint. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  waitForSpans(count: number, timeoutMs = 5000): Promise<ReceivedSpan[]> {
    return this.waitFor(() => this.spans.length >= count, timeoutMs, () => `${this.spans.length} of ${count} spans`).then(() => this.spans);
  }

  waitForCalls(count: number, timeoutMs = 5000): Promise<GrpcCall[]> {
    return this.waitFor(() => this.calls.length >= count, timeoutMs, () => `${this.calls.length} of ${count} calls`).then(() => this.calls);
  }

  /** Stops at once, failing calls still hanging. */
  close(): Promise<void> {
    for (const release of this.pending) release();
    this.server.forceShutdown();
    return Promise.resolve();
  }

  private handle(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>, request: GeneratedMessage, response: GeneratedMessage): void {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) === Infinity ? Infinity : Number(deadline) - Date.now();
    const obj = request.toObject(call.request, { longs: String, enums: Number, bytes: Buffer, defaults: false, arrays: true }) as OtlpRequest;
    const spans = flattenOtlpRequest(obj, 'otlp-grpc');
    const record: GrpcCall = { metadata, deadlineMs, spans: spans.length, code: -1 };
    this.calls.push(record);
    const fault = this.takeFault();
    const respond = (): void => {
      if (fault?.code !== undefined && fault.code !== 0) {
        record.code = fault.code;
        const trailer = new grpc.Metadata();
        const error: Partial<grpc.StatusObject> = { code: fault.code, details: fault.message ?? 'fault', metadata: trailer };
        if (fault.retryDelayMs !== undefined) trailer.set('grpc-status-details-bin', retryInfoStatus(fault.code, fault.message ?? 'fault', fault.retryDelayMs));
        callback(error);
      } else {
        record.code = 0;
        for (const s of spans) this.spans.push(s);
        const partialSuccess = fault?.rejectSpans === undefined ? undefined : { rejectedSpans: fault.rejectSpans.count, errorMessage: fault.rejectSpans.message };
        callback(null, response.create(partialSuccess === undefined ? {} : { partialSuccess }));
      }
      this.received();
    };
    this.answer(fault, respond, () => this.pending.add(() => callback({ code: grpc.status.UNAVAILABLE, details: 'collector closed' })));
  }
}

/**
 * A google.rpc.Status with a google.rpc.RetryInfo, encoded by hand from the .proto field numbers
 * (status: code 1, message 2, details 3; Any: type_url 1, value 2; RetryInfo: retry_delay 1;
 * Duration: seconds 1, nanos 2) — independent of the exporter's own reader.
 */
function retryInfoStatus(code: number, message: string, delayMs: number): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const field = (no: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([...varint(no * 8 + 2), ...varint(bytes.length)]), bytes]);
  const num = (no: number, n: number): Buffer => Buffer.from([...varint(no * 8), ...varint(n)]);
  const seconds = Math.floor(delayMs / 1000);
  const duration = Buffer.concat([num(1, seconds), num(2, (delayMs - seconds * 1000) * 1_000_000)]);
  const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, field(1, duration))]);
  return Buffer.concat([num(1, code), field(2, Buffer.from(message)), field(3, any)]);
}
