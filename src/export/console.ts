import type { Span, TagValue } from '../api/span.js';
import { guard } from '../util/log.js';
import { buildResource, serviceNameOf } from './resource.js';
import type { SpanExporter } from './span-processor.js';
import type { SpanProcessor } from '../api/span-processor.js';
import { mapSpan, SpanKind, StatusCode, type MapOptions, type MappedSpan } from './span-model.js';

/** Tags worth a glance in a tree line; the full set goes to OTLP, file and JSON output. */
const KEY_TAGS = ['component', 'http.method', 'http.route', 'http.url', 'http.status_code', 'db.type', 'db.statement', 'peer.service', 'message_bus.destination'];
const KIND_LABELS: Record<number, string> = { [SpanKind.SERVER]: 'server', [SpanKind.CLIENT]: 'client', [SpanKind.PRODUCER]: 'producer', [SpanKind.CONSUMER]: 'consumer' };

/** Options of `ConsoleTreeProcessor`. */
export interface ConsoleTreeOptions extends Partial<MapOptions> {
  resource?: Readonly<Record<string, TagValue>>;
  /** Where the text goes; default stderr, so the app's stdout stays its own. */
  write?: (text: string) => void;
  /** A trace with no root yet is printed after this long without a new span. Default 500 ms. */
  quietMs?: number;
  /** Spans held while waiting for their trace to end; more are printed early. Default 2048. */
  maxHeldSpans?: number;
}

interface PendingTrace {
  spans: Span[];
  lastAt: number;
}

/**
 * Prints one tree per finished trace: names, durations, kinds, key tags and errors. A trace is
 * printed when its root span finishes, or, for a trace whose root lives in another process,
 * once no span of it has finished for `quietMs`.
 */
export class ConsoleTreeProcessor implements SpanProcessor {
  private readonly traces = new Map<string, PendingTrace>();
  private held = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly write: (text: string) => void;
  private readonly quietMs: number;
  private readonly maxHeld: number;
  private readonly service: string;
  private readonly mapOptions: MapOptions;

  constructor(options: ConsoleTreeOptions = {}) {
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.quietMs = options.quietMs ?? 500;
    this.maxHeld = options.maxHeldSpans ?? 2048;
    this.service = serviceNameOf(buildResource(options.resource ?? {}));
    this.mapOptions = { exportBaggage: options.exportBaggage === true };
  }

  onEnd(span: Span): void {
    if (this.stopped) return;
    const traceId = span.context().traceId;
    let pending = this.traces.get(traceId);
    if (pending === undefined) {
      pending = { spans: [], lastAt: Date.now() };
      this.traces.set(traceId, pending);
    }
    pending.spans.push(span);
    pending.lastAt = Date.now();
    this.held++;
    if (span.parentSpanId === '') this.print(traceId);
    else if (this.held > this.maxHeld) this.print(this.traces.keys().next().value as string);
    else if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), this.quietMs);
      this.timer.unref();
    }
  }

  pendingCount(): number {
    return this.held;
  }

  async forceFlush(): Promise<void> {
    for (const traceId of [...this.traces.keys()]) this.print(traceId);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.quietMs;
    for (const [traceId, pending] of this.traces) if (pending.lastAt <= cutoff) this.print(traceId);
    if (this.traces.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private print(traceId: string): void {
    const pending = this.traces.get(traceId);
    if (pending === undefined) return;
    this.traces.delete(traceId);
    this.held -= pending.spans.length;
    const text = guard('console exporter', () => renderTrace(pending.spans.map((s) => mapSpan(s, this.mapOptions)), this.service), '');
    if (text === '') return;
    try {
      this.write(text);
    } catch {
      // A closed stderr must not take the app down.
    }
  }
}

/**
 * An exporter that prints each batch as trees, one per trace in it. For a tracer built by hand
 * (`new SimpleSpanProcessor(new ConsoleSpanExporter())`); the agent uses `ConsoleTreeProcessor`,
 * which waits for whole traces.
 */
export class ConsoleSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n')) {}

  async export(spans: readonly Span[]): Promise<void> {
    const byTrace = new Map<string, MappedSpan[]>();
    for (const span of spans) {
      const mapped = mapSpan(span, { exportBaggage: false });
      const list = byTrace.get(mapped.traceId);
      if (list === undefined) byTrace.set(mapped.traceId, [mapped]);
      else list.push(mapped);
    }
    const service = spans.length === 0 ? '' : serviceNameOf(buildResource(spans[0]!.tracer().resource));
    for (const trace of byTrace.values()) {
      try {
        this.write(renderTrace(trace, service).trimEnd());
      } catch {
        // A closed stderr must not take the app down.
      }
    }
  }

  async shutdown(): Promise<void> {}
}

/** Renders spans of one trace as an indented tree; spans whose parent is absent are roots. */
export function renderTrace(spans: readonly MappedSpan[], service: string): string {
  const byId = new Map<string, MappedSpan>();
  for (const s of spans) byId.set(s.spanId, s);
  const children = new Map<string, MappedSpan[]>();
  const roots: MappedSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId !== '' && byId.has(s.parentSpanId)) {
      let list = children.get(s.parentSpanId);
      if (list === undefined) children.set(s.parentSpanId, (list = []));
      list.push(s);
    } else roots.push(s);
  }
  const byStart = (a: MappedSpan, b: MappedSpan): number => a.startMs - b.startMs;
  roots.sort(byStart);
  const errors = spans.filter((s) => s.statusCode === StatusCode.ERROR).length;
  const first = spans[0];
  let out = `trace ${first === undefined ? '' : first.traceId} · ${service} · ${spans.length} span${spans.length === 1 ? '' : 's'}${errors > 0 ? ` · ${errors} error${errors === 1 ? '' : 's'}` : ''}\n`;
  const visit = (s: MappedSpan, prefix: string, last: boolean, depth: number): void => {
    out += `${prefix}${last ? '└─ ' : '├─ '}${describe(s)}\n`;
    const kids = children.get(s.spanId);
    if (kids === undefined || depth > 64) return;
    kids.sort(byStart);
    const next = prefix + (last ? '   ' : '│  ');
    kids.forEach((k, i) => visit(k, next, i === kids.length - 1, depth + 1));
  };
  roots.forEach((r, i) => visit(r, '', i === roots.length - 1, 0));
  return out;
}

function describe(s: MappedSpan): string {
  let line = `${s.name}  ${s.durationMs.toFixed(2)} ms`;
  const kind = KIND_LABELS[s.kind];
  if (kind !== undefined) line += `  [${kind}]`;
  for (const a of s.attributes) {
    if (!KEY_TAGS.includes(a.key)) continue;
    const text = String(a.value);
    line += `  ${a.key}=${text.length > 60 ? text.slice(0, 57) + '...' : text}`;
  }
  if (s.statusCode === StatusCode.ERROR) line += `  ERROR${s.statusMessage === '' ? '' : `: ${s.statusMessage}`}`;
  return line;
}
