// The local stand-ins the agents talk to: a trace sink that counts every span it receives
// (OTLP/HTTP at /v1/traces, Datadog's agent API at /v0.4/traces), and the downstream backend of
// the fetch app, which counts requests that arrive carrying a trace header.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { countDatadogSpans, countOtlpJsonSpans, countOtlpProtobufSpans } from './span-count.mjs';

/** How long the sink and the backend keep an idle connection (see startSink). */
const KEEP_ALIVE_MS = 60_000;

/** Headers by which an agent tells the downstream service about the trace. */
export const TRACE_HEADERS = ['traceparent', 'x-datadog-trace-id', 'b3', 'x-b3-traceid', 'uber-trace-id'];

/**
 * Starts the sink on 127.0.0.1, port 0. `counts` is live; read it before and after a cell.
 * Idle connections are kept a minute, not Node's 5 s: in the interleaved harness a server waits
 * seconds between its slices, and an exporter that had to connect again inside a measured slice would
 * pay for it there (and deoptimise stream code its socket shares with the server's: results/idle-gc-deopt.md).
 */
export async function startSink() {
  const counts = { spans: 0, payloads: 0, badPayloads: 0, otherPaths: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (path.endsWith('/v1/traces')) {
          const json = String(req.headers['content-type'] ?? '').includes('json');
          counts.spans += json ? countOtlpJsonSpans(body.toString('utf8')) : countOtlpProtobufSpans(body);
          counts.payloads++;
          res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
          res.end(json ? '{}' : '');
          return;
        }
        if (/^\/v0\.[45]\/traces$/.test(path)) {
          counts.spans += countDatadogSpans(body);
          counts.payloads++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"rate_by_service":{}}');
          return;
        }
      } catch {
        counts.badPayloads++;
        res.writeHead(400).end();
        return;
      }
      // /info, telemetry and the like: answer as an agent without those features would.
      counts.otherPaths++;
      res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const url = await listen(server);
  return { url, counts, close: () => close(server) };
}

/** Starts the fetch app's downstream service: a plain hello that notes incoming trace headers. */
export async function startBackend() {
  // connections: how many the apps opened; a fetch app's pool keeps a few for a whole cell, so a count
  // near the requests' would mean the cell measured connecting, not calling.
  const counts = { requests: 0, traced: 0, connections: 0 };
  const server = http.createServer((req, res) => {
    counts.requests++;
    if (TRACE_HEADERS.some((h) => req.headers[h] !== undefined)) counts.traced++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('backend says hello');
  });
  server.on('connection', () => counts.connections++);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const url = await listen(server);
  return { url, counts, close: () => close(server) };
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function close(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
