import t from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer, startTracing } from './harness.js';

const PROPAGATION = new Set(['traceparent', 'tracestate', 'baggage']);

// Answers with everything it was sent except our propagation headers, so any other change shows.
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!PROPAGATION.has(req.rawHeaders[i]!.toLowerCase())) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    const status = req.url === '/missing' ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json', 'x-echo': 'yes', 'set-cookie': ['a=1', 'b=2'] });
    if (req.url === '/chunked') {
      res.write('{"part":1,');
      setImmediate(() => res.end(`"headers":${JSON.stringify(headers)}}`));
      return;
    }
    res.end(JSON.stringify({ method: req.method, url: req.url, headers, body: Buffer.concat(chunks).toString() }));
  });
}

interface Seen {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function scenario(undici: any, base: string): Promise<Seen[]> {
  const out: Seen[] = [];
  const fromFetch = async (res: Response): Promise<void> => {
    const headers: Array<[string, string]> = [];
    res.headers.forEach((v, k) => { if (k !== 'date') headers.push([k, v]); });
    out.push({ status: res.status, headers, body: await res.text() });
  };
  const fromUndici = async (res: { statusCode: number; headers: Record<string, string | string[]>; body: { text(): Promise<string> } }): Promise<void> => {
    const headers = Object.entries(res.headers).filter(([k]) => k !== 'date').map(([k, v]) => [k, String(v)] as [string, string]);
    out.push({ status: res.statusCode, headers, body: await res.body.text() });
  };
  await fromFetch(await fetch(`${base}/get?q=1`, { headers: { 'x-custom': 'A' } }));
  await fromFetch(await fetch(`${base}/post`, { method: 'POST', body: JSON.stringify({ n: 1 }), headers: { 'content-type': 'application/json' } }));
  await fromFetch(await fetch(`${base}/missing`));
  await fromFetch(await fetch(`${base}/chunked`));
  await fromFetch(await undici.fetch(`${base}/npm-fetch`, { method: 'PUT', body: 'text body' }));
  await fromUndici(await undici.request(`${base}/request`, { headers: { 'x-array': ['1', '2'] } }));
  await fromUndici(await undici.request(`${base}/request-post`, { method: 'POST', body: Buffer.from('bytes') }));
  await fromUndici(await undici.request(`${base}/chunked`));
  return out;
}

t.test('responses, headers and bodies are identical with and without the instrumentation', async (t) => {
  const undici = await import('undici7');
  const server = await startServer(echo);
  t.teardown(() => server.close());
  const without = await scenario(undici, server.base);
  const traced = startTracing();
  const withTracing = await scenario(undici, server.base);
  traced.stop();
  t.equal(traced.clientSpans().length, without.length, 'every request was traced in the second run');
  t.same(withTracing, without, 'what the app sees does not change');
  t.ok(server.received.slice(0, without.length).every((r) => r.traceparents.length === 0), 'the first run was untraced');
});
