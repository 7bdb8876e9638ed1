import * as http from 'node:http';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';

/** The app every reliability test loads (fixtures/app.cjs): its first line is `ready <port>`. */
export const APP = path.join(ROOT, 'test/reliability/fixtures/app.cjs');

/** What a response looked like to the client, minus what varies by time or connection. */
export interface Answer {
  status: number;
  headers: string;
  body: string;
}

/** Answers and latencies of one load run. */
export interface LoadResult {
  answers: Answer[];
  /** Per request, ms, in request order. */
  latencies: number[];
  /** Requests that failed at the socket level (should be none). */
  errors: string[];
}

const VARYING = new Set(['date', 'connection', 'keep-alive']);

/** One GET, keeping status, headers (sorted, minus date and connection) and body. */
export function get(agent: http.Agent, url: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const kept = Object.entries(res.headers).filter(([k]) => !VARYING.has(k)).sort(([a], [b]) => (a < b ? -1 : 1));
        resolve({ status: res.statusCode ?? 0, headers: JSON.stringify(kept), body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('client timeout')));
  });
}

/**
 * Sends `count` requests (`pathFor(i)`) with `concurrency` in flight over keep-alive sockets and
 * records every answer and latency, in request order.
 */
export async function runLoad(base: string, count: number, concurrency: number, pathFor: (i: number) => string, headersFor?: (i: number) => http.OutgoingHttpHeaders): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const answers: Answer[] = new Array(count);
  const latencies: number[] = new Array(count).fill(0);
  const errors: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        answers[i] = await get(agent, `${base}${pathFor(i)}`, headersFor?.(i));
      } catch (err) {
        errors.push(`#${i}: ${(err as Error).message}`);
        answers[i] = { status: -1, headers: '', body: '' };
      }
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { answers, latencies, errors };
}

/** The `q` quantile (0..1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Index of the first answer that differs, or -1. */
export function firstDifference(a: readonly Answer[], b: readonly Answer[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.status !== y.status || x.headers !== y.headers || x.body !== y.body) return i;
  }
  return -1;
}

/** The app's /__stats answer. */
export interface AppStats {
  rss: number;
  heapUsed: number;
  handles: number;
  tracingEnv: string[];
}

export async function stats(base: string, gc = false): Promise<AppStats> {
  const agent = new http.Agent();
  const a = await get(agent, `${base}/__stats${gc ? '?gc=1' : ''}`);
  agent.destroy();
  return JSON.parse(a.body) as AppStats;
}
