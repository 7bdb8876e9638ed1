// Small HTTP helpers for the viewer tests: raw requests (Host header and body under our control)
// and an SSE reader.
import * as http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with node:http, so the Host header and body are exactly what the test says. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function getJson(url: string): Promise<any> {
  const r = await request(url);
  if (r.status !== 200) throw new Error(`GET ${url} → ${r.status} ${r.body.toString()}`);
  return JSON.parse(r.body.toString('utf8'));
}

export function postOtlp(otlpUrl: string, body: Buffer | string, contentType: string, extra: Record<string, string> = {}): Promise<RawResponse> {
  return request(otlpUrl, { method: 'POST', headers: { 'content-type': contentType, ...extra }, body });
}

/** An SSE connection collecting events; `next(name)` waits for the next event of that name. */
export class SseClient {
  readonly events: { event: string; data: string }[] = [];
  readonly comments: string[] = [];
  private waiters: (() => void)[] = [];
  private req: http.ClientRequest | null = null;
  private buffer = '';

  static open(url: string): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = http.get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`SSE ${url} → ${res.statusCode}`));
        res.setEncoding('utf8').on('data', (d: string) => c.feed(d));
        resolve(c);
      });
      c.req.on('error', () => {
        // closed by close(): nothing to report
      });
    });
  }

  private feed(d: string): void {
    this.buffer += d;
    let at: number;
    while ((at = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    }
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the parsed data of the first event named `name` after index `from`. */
  waitFor(name: string, from: number, timeoutMs = 5000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.events.length; i++) {
          if (this.events[i]!.event === name) {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            clearTimeout(timer);
            resolve(JSON.parse(this.events[i]!.data));
            return true;
          }
        }
        return false;
      };
      const waiter = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
      check();
    });
  }

  close(): void {
    this.req?.destroy();
  }
}
