// Starts the whole viewer: store (optionally loaded from and saved to a file), the OTLP receiver on
// one port and the web page and API on another. Used by `tracing-agent ui` and by tests.
import * as http from 'node:http';
import type * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { suppressTracing } from '../util/suppress.js';
import { LiveEvents, type LiveEventsOptions } from './live-events.js';
import { createOtlpHandler, DEFAULT_MAX_BODY_BYTES, OTLP_TRACES_PATH, type ReceiverOptions } from './receiver.js';
import { createWebHandler } from './server.js';
import { loadSpanFile, SpanFileWriter, type LoadReport } from './span-file.js';
import { DEFAULT_MAX_SPANS, TraceStore } from './store.js';
import { LogStore } from './log-store.js';

export const DEFAULT_WEB_PORT = 16686;
export const DEFAULT_OTLP_PORT = 4318;
export const DEFAULT_OTLP_GRPC_PORT = 4317;
export const DEFAULT_HOST = '127.0.0.1';

export interface ViewerOptions {
  /** Web port; 0 picks a free one. Default 16686. */
  port?: number;
  /** OTLP/HTTP port; 0 picks a free one. Default 4318. */
  otlpPort?: number;
  /**
   * OTLP/gRPC port; 0 picks a free one. Default: none (the `ui` command asks for 4317). `node:http2` is
   * loaded only when it is set.
   */
  otlpGrpcPort?: number | null;
  /** Address both ports bind to. Default 127.0.0.1. */
  host?: string;
  /** The store's bound, in spans. Default 100,000. */
  maxSpans?: number;
  /** A JSON-lines file spans are appended to and loaded from. */
  file?: string;
  /** Largest OTLP body, compressed or not. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once before new ones get 503. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Where index.html and assets/ are. Default dist/viewer-page. */
  pageDir?: string;
  /** Live-event timing (tests shorten it). */
  events?: LiveEventsOptions;
  /** Where warnings go (bad lines in the file, write failures). Default: stderr. */
  warn?: (message: string) => void;
}

/** A running viewer. */
export interface Viewer {
  /** `http://<host>:<port>` of the page. */
  webUrl: string;
  /** `http://<host>:<port>/v1/traces`: give it to an OTLP exporter as its traces endpoint. */
  otlpUrl: string;
  /** `http://<host>:<port>` of the OTLP/gRPC receiver (an exporter's endpoint with protocol grpc), or null when off. */
  otlpGrpcUrl: string | null;
  store: TraceStore;
  /** Log records received on `/v1/logs`, by trace (not saved to `file`). */
  logs: LogStore;
  /** What loading `file` found (null without a file). */
  loaded: LoadReport | null;
  /** Stops both ports, ends live streams and writes the file's pending lines. */
  close(): Promise<void>;
}

/** The port is taken, or the address cannot be bound: the message says which and what to do. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  /** The port that was taken, when that was the problem. */
  constructor(message: string, readonly portInUse: number | null = null) {
    super(message);
  }
}

/** The `--file` cannot be read or opened for appending. */
export class FileError extends Error {
  override readonly name = 'FileError';
}

/** Starts the viewer. Rejects with `ListenError` when a port cannot be bound, `FileError` for an unusable file. */
export async function startViewer(options: ViewerOptions = {}): Promise<Viewer> {
  const host = options.host ?? DEFAULT_HOST;
  const warn = options.warn ?? ((m: string) => process.stderr.write(`tracing-agent ui: warning: ${m}\n`));
  const store = new TraceStore(options.maxSpans ?? DEFAULT_MAX_SPANS);
  const logs = new LogStore();
  let loaded: LoadReport | null = null;
  let writer: SpanFileWriter | null = null;
  if (options.file !== undefined) {
    try {
      loaded = await loadSpanFile(options.file, store, warn);
      writer = new SpanFileWriter(options.file, warn);
    } catch (err) {
      throw new FileError(`cannot use --file ${options.file}: ${(err as Error).message}`);
    }
  }
  const events = new LiveEvents(store, options.events);
  const fileWriter = writer;
  const receiverOptions: ReceiverOptions = {
    store,
    logs,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxInFlightBytes: options.maxInFlightBytes,
    onAccepted: fileWriter === null ? undefined : (spans) => fileWriter.append(spans),
    onRefused: throttledRefusals(warn),
  };
  const otlpHandler = createOtlpHandler(receiverOptions);
  const webHandler = createWebHandler({ store, logs, events, pageDir: options.pageDir, host });
  // Created and bound inside suppressTracing: connections inherit that context, so if the viewer
  // runs under the agent by accident its own requests are not traced (and never loop back into it).
  const otlpServer = suppressTracing(() => http.createServer(otlpHandler));
  const webServer = suppressTracing(() => http.createServer(webHandler));
  const grpcPort = options.otlpGrpcPort ?? null;
  const grpcServer = grpcPort === null ? null : suppressTracing(() => createGrpcServer({ ...receiverOptions }));
  try {
    await listen(otlpServer, options.otlpPort ?? DEFAULT_OTLP_PORT, host, 'OTLP');
    if (grpcServer !== null) await listen(grpcServer.server, grpcPort!, host, 'OTLP/gRPC');
    await listen(webServer, options.port ?? DEFAULT_WEB_PORT, host, 'web');
  } catch (err) {
    events.close();
    otlpServer.close();
    await grpcServer?.stop();
    webServer.close();
    await fileWriter?.close();
    throw err;
  }
  // Bound to every interface: print the loopback address, which a browser here can always open.
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const urlHost = shown.includes(':') ? `[${shown}]` : shown;
  let closing: Promise<void> | null = null;
  return {
    webUrl: `http://${urlHost}:${(webServer.address() as AddressInfo).port}`,
    otlpUrl: `http://${urlHost}:${(otlpServer.address() as AddressInfo).port}${OTLP_TRACES_PATH}`,
    otlpGrpcUrl: grpcServer === null ? null : `http://${urlHost}:${(grpcServer.server.address() as AddressInfo).port}`,
    store,
    logs,
    loaded,
    close() {
      closing ??= (async () => {
        events.close();
        await Promise.all([stop(otlpServer), stop(webServer), grpcServer?.stop()]);
        await fileWriter?.close();
      })();
      return closing;
    },
  };
}

/**
 * Reports refused requests through `warn` (a misconfigured sender otherwise sees its spans vanish
 * with no word on this side): the first few, then at most one a minute with how many were not shown.
 */
function throttledRefusals(warn: (message: string) => void, everyMs = 60_000): (status: number | string, message: string) => void {
  let shown = 0;
  let lastAt = 0;
  let quiet = 0;
  return (status, message) => {
    const now = Date.now();
    if (shown >= 3 && now - lastAt < everyMs) {
      quiet++;
      return;
    }
    shown++;
    lastAt = now;
    warn(`refused an OTLP request (${status}): ${message}${quiet > 0 ? ` (and ${quiet} more since the last report)` : ''}`);
    quiet = 0;
  };
}

function listen(server: http.Server | http2.Http2Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') reject(new ListenError(`${what} port ${port} on ${host} is already in use (another viewer or collector?); choose another with --${what === 'OTLP' ? 'otlp-port' : what === 'OTLP/gRPC' ? 'otlp-grpc-port' : 'port'}`, port));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new ListenError(`cannot bind ${what} port to ${host}: no such local address`));
      else if (err.code === 'EACCES') reject(new ListenError(`not allowed to bind ${what} port ${port} on ${host}`));
      else reject(new ListenError(`cannot listen on ${host}:${port} (${what}): ${err.message}`));
    };
    server.once('error', onError);
    suppressTracing(() =>
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      }),
    );
  });
}

function stop(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The OTLP/gRPC port: a plaintext HTTP/2 server (gRPC clients speak HTTP/2 with prior knowledge).
 * `node:http2` and the receiver are required here, so a viewer without the gRPC port never loads them.
 * `stop` also ends open sessions: gRPC clients keep their connection, which would hold `close` forever.
 */
function createGrpcServer(receiverOptions: ReceiverOptions): { server: http2.Http2Server; stop(): Promise<void> } {
  const h2 = require('node:http2') as typeof http2;
  const { createOtlpGrpcHandler } = require('./grpc-receiver.js') as typeof import('./grpc-receiver.js');
  const server = h2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {});
  });
  // A bad client (garbage instead of the HTTP/2 preface, a protocol error) ends its session, not the viewer.
  server.on('sessionError', () => {});
  server.on('stream', createOtlpGrpcHandler(receiverOptions));
  return {
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}
