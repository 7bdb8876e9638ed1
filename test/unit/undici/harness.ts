import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter } from '../../../src/export/memory.js';
import type { Span } from '../../../src/api/span.js';
import { Tracer, type TracerOptions } from '../../../src/tracer.js';
import { instrument } from '../../helpers/instrumentation-context.js';

/** A tracer whose finished spans land in memory, with the instrumentations started on it. */
export interface Traced {
  tracer: Tracer;
  exporter: InMemorySpanExporter;
  spans(): readonly Span[];
  /** Client spans only (the test's own parent spans are excluded). */
  clientSpans(): readonly Span[];
  stop(): void;
}

/** Starts `undici` and `fetch` tracing (or only those named) on a fresh in-memory tracer. */
export function startTracing(opts: {
  only?: 'fetch' | 'undici';
  config?: Record<string, unknown>;
  tracer?: Omit<TracerOptions, 'processor'>;
} = {}): Traced {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ ...opts.tracer, processor: exporter });
  // Each component with its own options (its section of the config file), run as the loader runs it.
  const started = (['undici', 'fetch'] as const).filter((name) => opts.only === undefined || opts.only === name).map((name) => instrument(name, tracer, opts.config));
  for (const s of started) s.start();
  return {
    tracer,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    clientSpans: () => exporter.getFinishedSpans().filter((s) => s.tags['span.kind'] === 'client'),
    stop() {
      for (const s of started) s.undo();
    },
  };
}

/** What a test server saw of one request. */
export interface Received {
  url: string;
  method: string;
  /** Raw header pairs as sent, so duplicates are visible. */
  rawHeaders: string[];
  traceparents: string[];
}

export interface TestServer {
  base: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** A loopback server on port 0 that records every request and answers with `handler`. */
export async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = okHandler): Promise<TestServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const traceparents: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() === 'traceparent') traceparents.push(req.rawHeaders[i + 1]!);
    }
    received.push({ url: req.url ?? '', method: req.method ?? '', rawHeaders: req.rawHeaders, traceparents });
    handler(req, res);
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function okHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'text/plain');
    res.end(`ok ${req.method} ${req.url}`);
  });
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The span id inside a `traceparent` value. */
export function parentIdOf(traceparent: string | undefined): string {
  return traceparent === undefined ? '' : traceparent.split('-')[2] ?? '';
}
