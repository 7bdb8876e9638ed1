import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, ROOT, runNode } from '../../helpers/run-node.js';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const CLI = path.join(ROOT, pkg.bin['tracing-agent']!);
const SECRET = 'Bearer s3cr3t-value-never-printed';

/** A throwaway project: its package.json, a few installed modules, a config file. */
function makeProject(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, json: unknown) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), JSON.stringify(json));
  };
  write('package.json', { name: 'demo-shop', version: '2.3.4' });
  write('node_modules/express/package.json', { name: 'express', version: '4.21.2' });
  write('node_modules/koa/package.json', { name: 'koa', version: '1.7.0' });
  write('node_modules/@hapi/hapi/package.json', { name: '@hapi/hapi', version: '21.3.10' });
  write('tracing.json', { sampleRate: 0.5, instrumentations: { hapi: false, http: { ignorePaths: ['/health'] } } });
  return dir;
}

t.test('package.json declares the tracing-agent bin, and it is an executable script', async (t) => {
  t.ok(fs.existsSync(CLI), CLI);
  t.match(fs.readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

t.test('tracing-agent config prints values, sources, warnings and the installed modules; never a secret', async (t) => {
  const dir = makeProject(t);
  const r = await runNode([CLI, 'config'], {
    cwd: dir,
    env: {
      TRACING_CONFIG: 'tracing.json',
      TRACING_EXPORTER_HEADERS: `authorization=${SECRET}`,
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${SECRET}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      TRACING_SAMPLER: 'ratioo',
    },
    timeoutMs: 20_000,
  });
  t.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  t.notMatch(out + r.stderr, 's3cr3t', 'the secret header value appears nowhere');
  t.match(out, /TRACING_SERVICE_NAME\s+demo-shop\s+package\.json .*package\.json/);
  t.match(out, /TRACING_SERVICE_VERSION\s+2\.3\.4\s+package\.json/);
  t.match(out, /TRACING_ENDPOINT\s+http:\/\/collector:4318\/v1\/traces\s+OTEL_EXPORTER_OTLP_ENDPOINT/);
  t.match(out, /TRACING_EXPORTER_HEADERS\s+authorization=\[redacted\]\s+TRACING_EXPORTER_HEADERS/);
  t.match(out, /TRACING_SAMPLE_RATE\s+0\.5\s+file .*tracing\.json/);
  t.match(out, /TRACING_SAMPLER\s+parent_based\s+default/);
  t.match(out, /TRACING_SAMPLER: unknown sampler "ratioo" \(did you mean "ratio"\?\)/, 'warnings are listed');
  t.match(out, /express\s+express\s+>=4 <6\s+4\.21\.2\s+will be traced/);
  t.match(out, /koa\s+koa\s+>=2 <4\s+1\.7\.0\s+version 1\.7\.0 is outside >=2 <4: skipped/);
  t.match(out, /hapi\s+@hapi\/hapi\s+>=21 <22\s+21\.3\.10\s+switched off/);
  t.match(out, /fastify\s+fastify\s+>=4 <6\s+-\s+not installed/);
  t.match(out, /http\s+http\s+built-in\s+built-in \(node [\d.]+\)\s+will be traced/);
});

t.test('tracing-agent config --json gives the same facts for scripts', async (t) => {
  const dir = makeProject(t);
  const r = await runNode([CLI, 'config', '--json'], { cwd: dir, env: { TRACING_EXPORTER_HEADERS: `authorization=${SECRET}`, TRACING_DISABLED_INSTRUMENTATIONS: 'express' } });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, 's3cr3t');
  const report = JSON.parse(r.stdout);
  t.equal(report.config.serviceName, 'demo-shop');
  t.same(report.config.export.headers, { authorization: '[redacted]' });
  t.equal(report.sources.TRACING_DISABLED_INSTRUMENTATIONS, 'TRACING_DISABLED_INSTRUMENTATIONS');
  const express = report.modules.find((m: { module: string }) => m.module === 'express');
  t.same([express.installed, express.applies], ['4.21.2', false]);
});

t.test('an unknown command or option fails with usage and exit status 2', async (t) => {
  const r = await runNode([CLI, 'confg']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown command "confg" \(did you mean "config"\?\)[\s\S]*Usage: tracing-agent/);
  const opt = await runNode([CLI, 'config', '--yaml']);
  t.equal(opt.code, 2);
  t.match(opt.stderr, /unknown option --yaml/);
});

t.test('at TRACING_LOG_LEVEL=info the agent prints one start-up line, secrets redacted', async (t) => {
  const r = await runNode(['--import', REGISTER, '-e', 'setTimeout(() => {}, 1)'], {
    env: { TRACING_LOG_LEVEL: 'info', TRACING_EXPORTER: 'none', TRACING_SERVICE_NAME: 'svc-a', TRACING_EXPORTER_HEADERS: `authorization=${SECRET}` },
  });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[tracing-agent] info: service '));
  t.equal(lines.length, 1, r.stderr);
  t.match(lines[0], /service svc-a; exporter none; sampler parent_based rate 1; propagation tracecontext,baggage; instrumentations http,/);
  t.notMatch(r.stderr, 's3cr3t');
  const quiet = await runNode(['--import', REGISTER, '-e', ''], { env: { TRACING_EXPORTER: 'none', TRACING_SAMPLE_RATE: '9' } });
  t.notMatch(quiet.stderr, /info:/, 'nothing at the default level');
  t.match(quiet.stderr, /warn: TRACING_SAMPLE_RATE: "9" is not accepted/, 'but bad values are warned about');
});
