import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Collector } from '../../helpers/collector.js';
import { startApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

// The shared logger suite. Zero-code: each fixture app runs under `--import register.mjs`, once as
// .cjs and once as .mjs, with every major installed side by side (npm aliases symlinked into its
// fixture folder). The app writes through the logger configurations users report trouble with
// (fixtures/<family>/loggers.cjs) into files; three concurrent requests, each with its own incoming
// trace, check that every record carries its own request's ids (the server span's span id), also
// from timers and promises, that records outside a trace carry none, and that fields the user set win.

export const FIXTURES = path.join(ROOT, 'test', 'integration', 'logs', 'fixtures');
const SERVER = 2;
const PHASES = ['sync', 'timer', 'promise'];
/** `trace_id` values the fixtures set themselves; such records must keep them and get nothing added. */
const USER_TRACE_IDS = new Set(['set-by-user', 'bound-by-user', 'from-user-mixin']);

/** One record read back from an output file, whatever its format. */
export interface ReadRecord {
  file: string;
  line: string;
  fields: Record<string, unknown>;
}

export interface Family {
  name: 'pino' | 'winston' | 'bunyan';
  folders: readonly string[];
  /** Output files every run must write, each with records of every request and phase. */
  files: readonly string[];
  /** Level names each family's fixture logs at (`level_test`); every one must carry the ids. */
  levels: readonly string[];
  /**
   * Run the OTLP export and byte-identity tests on the last folder (default true; pino's majors are
   * split over two files and run them once).
   */
  exportAndIdentity?: boolean;
  /** Run the per-folder record tests (default true; false leaves only the export and identity tests). */
  records?: boolean;
  /** Extra checks of the family's configurations. */
  extra?(tt: Test, records: readonly ReadRecord[]): void;
}

/** Reads every output file: JSON lines, pino-pretty's single lines, winston's printf `k=v` lines. */
export function readOutputs(dir: string): ReadRecord[] {
  const out: ReadRecord[] = [];
  for (const file of readdirSync(dir).sort()) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      out.push({ file, line, fields: parseLine(file, line) });
    }
  }
  return out;
}

function parseLine(file: string, line: string): Record<string, unknown> {
  if (file === 'winston-printf.log') {
    const fields: Record<string, unknown> = {};
    for (const m of line.matchAll(/(\w+)=(\S+)/g)) if (m[2] !== 'undefined') fields[m[1]!] = m[2];
    return fields;
  }
  if (file === 'pino-pretty.log') return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
  return JSON.parse(line) as Record<string, unknown>;
}

function traceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}

export function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function tempDir(tt: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'logs-fixture-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs one app: the given requests one after the other (`concurrent` false) or all at once; returns what it wrote. */
export async function runApp(
  folder: string,
  file: string,
  env: NodeJS.ProcessEnv,
  dir: string,
  requests: Array<{ id: string; headers?: Record<string, string> }>,
  concurrent: boolean,
  agent = true,
  beforeStop: () => Promise<unknown> = async () => undefined,
): Promise<{ stderr: string }> {
  const app = await startApp(path.join(FIXTURES, folder, file), { preserveSymlinks: true, env: { LOG_DIR: dir, ...env }, agent });
  if (concurrent) await Promise.all(requests.map((r) => get(app.port, `/log?id=${r.id}`, r.headers)));
  else for (const r of requests) await get(app.port, `/log?id=${r.id}`, r.headers);
  // The app exits with process.exit (no beforeExit flush): what must arrive is awaited first.
  await beforeStop();
  await app.stop();
  return { stderr: app.stderr };
}

export function logsSuite(family: Family): void {
  for (const folder of family.records === false ? [] : family.folders) {
    for (const file of ['app.cjs', 'app.mjs']) {
      t.test(`${folder} ${file}: each record in a request carries that request's trace and server span`, async (tt) => {
        const collector = await Collector.start();
        tt.teardown(() => collector.close());
        const dir = tempDir(tt);
        const requests = ['r1', 'r2', 'r3'].map((id) => ({ id, traceId: randomBytes(16).toString('hex') }));
        const { stderr } = await runApp(
          folder,
          file,
          { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_SERVICE_NAME: 'logs-fixture' },
          dir,
          requests.map((r) => ({ id: r.id, headers: { traceparent: traceparent(r.traceId) } })),
          true,
          true,
          () => collector.waitForSpans(3),
        );
        tt.equal(stderr, '', 'the agent wrote nothing to stderr');
        const spans = collector.spans;
        const records = readOutputs(dir);
        tt.same([...new Set(records.map((r) => r.file))].sort(), [...family.files].sort(), 'every output file was written');

        for (const req of requests) {
          const server = spans.find((s) => s.kind === SERVER && s.traceId === req.traceId);
          tt.ok(server, `${req.id}: the server span continued the incoming trace`);
          const mine = records.filter((r) => r.fields.req_id === req.id);
          for (const f of family.files) {
            for (const phase of PHASES) tt.ok(mine.some((r) => r.file === f && r.fields.phase === phase), `${req.id}: ${f} has a ${phase} record`);
          }
          const wrong: string[] = [];
          for (const r of mine) {
            const userValue = r.fields.trace_id;
            if (typeof userValue === 'string' && USER_TRACE_IDS.has(userValue)) {
              if ('span_id' in r.fields || 'trace_flags' in r.fields || r.line.split('trace_id').length !== 2) wrong.push(`user-set record changed: ${r.file}: ${r.line}`);
              continue;
            }
            if (r.fields.trace_id !== req.traceId || r.fields.span_id !== server?.spanId || r.fields.trace_flags !== '01') wrong.push(`${r.file}: ${r.line}`);
          }
          tt.same(wrong, [], `${req.id}: ${mine.length} records carry trace ${req.traceId} and the server span's id (user-set trace_id kept)`);
          const levels = new Set(mine.filter((r) => r.fields.trace_id === req.traceId).map((r) => r.fields.level_test).filter((l) => l !== undefined));
          tt.same([...levels].sort(), [...family.levels].sort(), `${req.id}: every level carries the ids`);
        }

        const outside = records.filter((r) => r.fields.req_id === 'startup');
        tt.ok(outside.length >= family.files.length, 'records were written outside any trace');
        tt.same(
          outside.filter((r) => 'span_id' in r.fields || 'trace_flags' in r.fields || (r.fields.trace_id !== undefined && !USER_TRACE_IDS.has(String(r.fields.trace_id)))).map((r) => r.line),
          [],
          'records outside a trace carry no ids',
        );
        family.extra?.(tt, records);
      });
    }
  }

  if (family.exportAndIdentity === false) return;
  const latest = family.folders[family.folders.length - 1]!;
  for (const protocol of ['http/protobuf', 'http/json']) {
    t.test(`${latest}: TRACING_LOGS_EXPORTER=otlp (${protocol}) sends the records as OTLP logs beside their spans`, async (tt) => {
      const collector = await Collector.start();
      tt.teardown(() => collector.close());
      const dir = tempDir(tt);
      const requests = ['r1', 'r2', 'r3'].map((id) => ({ id, traceId: randomBytes(16).toString('hex') }));
      const arrived = (): boolean => requests.every((r) => collector.logs.some((l) => l.attributes.req_id === r.id && l.attributes.phase === 'promise'));
      const { stderr } = await runApp(
        latest,
        'app.cjs',
        {
          TRACING_EXPORTER: 'otlp',
          TRACING_EXPORTER_PROTOCOL: protocol,
          TRACING_ENDPOINT: collector.otlpUrl,
          TRACING_BATCH_DELAY_MS: '50',
          TRACING_SERVICE_NAME: 'logs-fixture',
          TRACING_LOGS_EXPORTER: 'otlp',
        },
        dir,
        requests.map((r) => ({ id: r.id, headers: { traceparent: traceparent(r.traceId) } })),
        true,
        true,
        async () => {
          await collector.waitForSpans(3);
          const deadline = Date.now() + 10_000;
          while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        },
      );
      tt.equal(stderr, '', 'the agent wrote nothing to stderr');
      tt.same(collector.decodeErrors, [], 'every payload decoded with the official definitions');
      tt.ok(collector.requests.some((r) => r.path === '/v1/logs'), 'sent to /v1/logs on the trace endpoint base');
      const logs = collector.logs;
      tt.ok(logs.length > 0 && logs.every((l) => l.protocol === (protocol === 'http/json' ? 'otlp-json' : 'otlp-protobuf')), `records arrived as ${protocol}`);
      tt.ok(logs.every((l) => l.resource['service.name'] === 'logs-fixture' && l.scope.name === family.name), 'the spans\' resource, the logger as scope');
      for (const req of requests) {
        const server = collector.spans.find((s) => s.kind === SERVER && s.traceId === req.traceId);
        const mine = logs.filter((l) => l.attributes.req_id === req.id);
        tt.same(PHASES.filter((p) => !mine.some((l) => l.attributes.phase === p)), [], `${req.id}: records of every phase arrived`);
        tt.same(mine.filter((l) => l.traceId !== req.traceId || l.spanId !== server?.spanId || l.flags !== 1).map((l) => l.body), [], `${req.id}: every record carries its request's trace and server span`);
        const warn = mine.find((l) => l.attributes.level_test === 'warn');
        tt.equal(warn?.severityNumber, 13, `${req.id}: warn maps to severity 13`);
        tt.equal(warn?.body, 'level warn', `${req.id}: the message is the body`);
      }
      const outside = logs.filter((l) => l.attributes.req_id === 'startup');
      tt.ok(outside.length > 0 && outside.every((l) => l.traceId === '' && l.spanId === ''), 'records outside a trace arrive without ids');
    });
  }

  t.test(`${latest}: TRACING_LOGS_INJECTION=false and opting out of "${family.name}" leave the output byte-identical to a run without the agent`, async (tt) => {
    const requests = [{ id: 'r1', headers: { traceparent: traceparent(randomBytes(16).toString('hex')) } }, { id: 'r2' }];
    const runs: Record<string, string> = {};
    const variants: Array<[string, NodeJS.ProcessEnv, boolean]> = [
      ['without the agent', {}, false],
      ['TRACING_LOGS_INJECTION=false', { TRACING_EXPORTER: 'none', TRACING_LOGS_INJECTION: 'false' }, true],
      [`TRACING_DISABLED_INSTRUMENTATIONS=${family.name}`, { TRACING_EXPORTER: 'none', TRACING_DISABLED_INSTRUMENTATIONS: family.name }, true],
    ];
    for (const [label, env, agent] of variants) {
      const dir = tempDir(tt);
      await runApp(latest, 'app.cjs', env, dir, requests, false, agent);
      runs[label] = readdirSync(dir).sort().map((f) => `== ${f}\n${normalize(readFileSync(path.join(dir, f), 'utf8'))}`).join('\n');
    }
    tt.match(runs['without the agent'], /"req_id":"r1"/, 'the app logged its requests');
    tt.equal(runs['TRACING_LOGS_INJECTION=false'], runs['without the agent'], 'TRACING_LOGS_INJECTION=false: identical output');
    tt.equal(runs[`TRACING_DISABLED_INSTRUMENTATIONS=${family.name}`], runs['without the agent'], 'opted out: identical output');
  });
}

/** bunyan stamps every record with the time and pid: the only bytes two runs may differ in. */
function normalize(text: string): string {
  return text.replace(/"time":"[^"]*"/g, '"time":"T"').replace(/"pid":\d+/g, '"pid":0');
}
