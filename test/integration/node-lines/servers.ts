import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

// The servers the node-lines fixture apps talk to, in the test process (no agent).

/** A server of the test process (no agent) the fixture apps call; records the traceparent it saw per path. */
export interface Downstream {
  port: number;
  traceparents: Map<string, string[]>;
  close(): Promise<void>;
}

export function startDownstream(): Promise<Downstream> {
  const traceparents = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    const seen = traceparents.get(req.url ?? '') ?? [];
    seen.push(String(req.headers.traceparent ?? ''));
    traceparents.set(req.url ?? '', seen);
    res.end('ok');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as AddressInfo).port,
      traceparents,
      close: () => new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
    }));
  });
}

/** An exporter endpoint that is down, held until `close()`. */
export interface DownEndpoint {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback endpoint that drops every connection before answering: to an exporter, a backend that is
 * down. The port stays bound until `close()`; a port that was merely released could be taken by
 * another test's server meanwhile, which would then answer (an HTTP 404 instead of a dead endpoint).
 */
export function downEndpoint(): Promise<DownEndpoint> {
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}
