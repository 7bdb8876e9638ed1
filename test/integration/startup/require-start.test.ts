// The agent by `--require` in a CommonJS app (issue 21's short processes): its start, its hooks and http's patch
// take the CommonJS loader's Module class from their own module records, not from the public `node:module`
// built-in, whose lib/module.js loads the ES-module loader's modules and the source-map classes that such an app
// on Node 20 never loads otherwise (~0.8 M instructions of a process; docs/performance.md, round twenty). What must
// hold: the app is traced as before (the require hook patched http: the handler runs in the server span, the
// outgoing request carries its context); on Node 20 `node:module` is not loaded; on a line with
// `module.registerHooks` the agent still finds it (it looks it up there).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNodeUntracked } from '../../helpers/run-node.js';

const APP = `'use strict';
const http = require('node:http');
const { globalTracer } = require(process.env.AGENT_ROOT + '/dist/src/index.js');
const server = http.createServer((req, res) => {
  const span = globalTracer().activeSpan();
  res.end(JSON.stringify({ inServerSpan: span !== null, traceparent: req.headers.traceparent ?? null }));
});
server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => server.close(() => {
      const loaded = process.moduleLoadList.includes('NativeModule module');
      console.log(JSON.stringify({ ...JSON.parse(body), nodeModuleLoaded: loaded }));
    }));
  });
});
`;

t.test('a CommonJS app by --require: traced, and on Node 20 without loading node:module', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'require-start-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.cjs'), APP);
  const env = { TRACING_EXPORTER: 'none', AGENT_ROOT: ROOT, TRACING_CACHE_DIR: path.join(dir, 'cache') };
  // Twice: the first process writes the code cache, the second starts from it, as most processes do.
  for (const run of ['first', 'second']) {
    const r = runNodeUntracked(['--require', path.join(ROOT, 'register.cjs'), path.join(dir, 'app.cjs')], { cwd: dir, env });
    t.equal(r.code, 0, `${run}: ${r.stderr}`);
    t.equal(r.stderr, '', `${run}: no warning`);
    const out = JSON.parse(r.stdout) as { inServerSpan: boolean; traceparent: string | null; nodeModuleLoaded: boolean };
    t.equal(out.inServerSpan, true, `${run}: the handler runs in the server span`);
    t.match(out.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, `${run}: the client request carries its context`);
    if (process.versions.node.startsWith('20.')) t.equal(out.nodeModuleLoaded, false, `${run}: node:module is not loaded on Node 20`);
  }
});
