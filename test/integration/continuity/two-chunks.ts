import * as http from 'node:http';
import * as https from 'node:https';

export interface TwoChunkRequest {
  port: number;
  /** The CA to trust for https; http when absent. */
  tls?: Buffer;
  path: string;
  headers: Record<string, string | string[]>;
  /** The body, sent as these pieces with `gapMs` between them. */
  chunks: string[];
  gapMs: number;
}

/**
 * A POST from the test process (no agent) whose body arrives in pieces some ms apart, so the server
 * gets its 'data' and 'end' events on later ticks, from the socket, as with a slow client.
 * Content-Length is set, so `readable` readers can tell when they have it all.
 */
export function sendInTwoChunks(r: TwoChunkRequest): Promise<{ status: number; body: string }> {
  const length = r.chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
  const options = { host: '127.0.0.1', port: r.port, path: r.path, method: 'POST', agent: false as const, headers: { ...r.headers, 'content-length': String(length) } };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    };
    const req = r.tls === undefined ? http.request(options, onResponse) : https.request({ ...options, ca: r.tls }, onResponse);
    req.on('error', reject);
    req.flushHeaders();
    let i = 0;
    const next = (): void => {
      const chunk = r.chunks[i++]!;
      if (i === r.chunks.length) req.end(chunk);
      else {
        req.write(chunk);
        setTimeout(next, r.gapMs);
      }
    };
    next();
  });
}
