import http = require('node:http');
import type { AddressInfo } from 'node:net';
import type { Span } from '../../../src/api/span.js';
import { suppressTracing } from '../../../src/util/suppress.js';
import { instrument, memoryTracer, type TestInstrumentation } from '../../helpers/instrumentation-context.js';

/**
 * One tracer for the whole test file, with `http` patched so that requests get their server span,
 * the way the agent sets things up. Frameworks are patched with `framework(name, options)`.
 */
export const { tracer, exporter } = memoryTracer();
instrument('http', tracer).patch(http);

/** A framework instrumentation on the same tracer, with its own options (as from the config file). */
export function framework(name: string, options: Record<string, unknown> = {}): TestInstrumentation {
  return instrument(name, tracer, options);
}

/** Starts a server on 127.0.0.1, port 0; `listen` is whatever starts the framework's server. */
export async function onLoopback(start: (port: 0, host: string) => Promise<http.Server> | http.Server): Promise<{ port: number; close(): Promise<void> }> {
  const server = await start(0, '127.0.0.1');
  if (!server.listening) await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Reply {
  status: number;
  body: string;
}

/** An outside caller: its own request is not traced. */
export function request(port: number, path: string, method = 'GET'): Promise<Reply> {
  return suppressTracing(() => new Promise<Reply>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  }));
}

/** Requests `path` and returns the server span that request produced (and the reply). */
export async function serverSpanOf(port: number, path: string, method = 'GET'): Promise<{ span: Span; reply: Reply; spans: readonly Span[] }> {
  exporter.reset();
  const reply = await request(port, path, method);
  // The span ends on the response's 'close', just after the client saw the end.
  const mine = (s: Span) => s.tags['span.kind'] === 'server' && String(s.tags['http.url']).endsWith(path);
  for (let i = 0; i < 50 && !exporter.getFinishedSpans().some(mine); i++) await new Promise((r) => setTimeout(r, 5));
  const spans = exporter.getFinishedSpans();
  const span = spans.find(mine);
  if (span === undefined) throw new Error(`no server span for ${method} ${path}`);
  return { span, reply, spans };
}

/** The fields of a span's error log, if it has one. */
export function errorLog(span: Span): Readonly<Record<string, unknown>> | undefined {
  return span.logs.find((l) => l.fields.event === 'error')?.fields;
}
