import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the backend behaves. `down` is not a mode: it stops listening (connections are refused). */
export type BackendMode = 'ok' | 'hang' | 'slow' | '500' | '503' | '429' | 'garbage' | 'midclose';

/**
 * An OTLP/HTTP JSON trace receiver on 127.0.0.1 that can misbehave in every way a real backend does:
 * refuse connections (`down()`), accept and never answer, answer slowly, answer 500/503/429 with
 * `Retry-After`, answer garbage that is not HTTP, or close the connection mid-response.
 * In `ok` mode it records the trace and span ids of every span.
 */
export class FaultBackend {
  mode: BackendMode = 'ok';
  /** Requests received per mode. */
  readonly requestsByMode: Record<string, number> = {};
  /** Trace ids of spans accepted in `ok` mode. */
  readonly traceIds = new Set<string>();
  spansAccepted = 0;
  private server: http.Server;
  private portNumber = 0;

  private constructor() {
    this.server = this.create();
  }

  static async start(): Promise<FaultBackend> {
    const b = new FaultBackend();
    await b.listen(0);
    return b;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}/v1/traces`;
  }

  /** Stops listening and drops every connection: the exporter's connects are refused. */
  down(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    this.server = this.create();
    await this.listen(this.portNumber);
  }

  close(): Promise<void> {
    return this.down();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.portNumber = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private create(): http.Server {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    return server;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const mode = this.mode;
      this.requestsByMode[mode] = (this.requestsByMode[mode] ?? 0) + 1;
      const socket = res.socket!;
      switch (mode) {
        case 'hang':
          return; // dropped by down()/close()
        case 'slow':
          setTimeout(() => this.accept(Buffer.concat(chunks), res), 300);
          return;
        case '500':
        case '503':
          res.writeHead(Number(mode), { 'content-type': 'text/plain' }).end('backend trouble');
          return;
        case '429':
          res.writeHead(429, { 'retry-after': '1' }).end();
          return;
        case 'garbage':
          socket.end('\x00\xffNOT HTTP AT ALL\r\n\r\n{{{{');
          return;
        case 'midclose':
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"partialSucc');
          socket.destroy();
          return;
        default:
          this.accept(Buffer.concat(chunks), res);
      }
    });
  }

  private accept(body: Buffer, res: http.ServerResponse): void {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: { traceId: string }[] }[] }[] };
      for (const rs of parsed.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            this.traceIds.add(s.traceId);
            this.spansAccepted++;
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      res.writeHead(400).end();
    }
  }
}
