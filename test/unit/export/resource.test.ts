// The resource names the host and the OS as node:os does, though on Linux it reads them without loading node:os
// (src/export/resource.ts): a backend groups spans by host.name, so a name that differed would split a host in two.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildResource, SDK_VERSION } from '../../../src/export/resource.js';

const valueOf = (key: string) => buildResource({ 'service.name': 'r' }).find((a) => a.key === key)?.value;

t.test('host.name and os.type are what node:os reports', async (t) => {
  t.equal(valueOf('host.name'), os.hostname());
  t.equal(valueOf('os.type'), os.type().toLowerCase());
});

t.test('the resource is built without loading node:os on Linux, and still names the host', { skip: process.platform !== 'linux' && 'reads /proc: Linux only' }, async (t) => {
  const resource = path.join(__dirname, '..', '..', '..', 'src', 'export', 'resource.js');
  const script = `const r = require(${JSON.stringify(resource)}).buildResource({});
const loaded = process.moduleLoadList.some((m) => m === 'NativeModule os');
console.log(JSON.stringify({ loaded, host: r.find((a) => a.key === 'host.name').value, type: r.find((a) => a.key === 'os.type').value }));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { loaded: boolean; host: string; type: string };
  t.equal(out.loaded, false, 'node:os not loaded');
  t.equal(out.host, os.hostname());
  t.equal(out.type, 'linux');
});

t.test('telemetry.sdk.version is the package version, found from the built module without a failed read', async (t) => {
  const root = path.join(__dirname, '..', '..', '..', '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  t.equal(SDK_VERSION, pkg.version);
  t.equal(valueOf('telemetry.sdk.version'), pkg.version);
  // The walk up from dist/src/export asks whether package.json is there before reading it: a read that fails
  // builds an Error with its stack, three of them per process that exports.
  const resource = path.join(__dirname, '..', '..', '..', 'src', 'export', 'resource.js');
  const script = `const fs = require('node:fs'); const real = fs.readFileSync; let failed = 0;
fs.readFileSync = function (...args) { try { return real.apply(this, args); } catch (e) { failed++; throw e; } };
const { SDK_VERSION } = require(${JSON.stringify(resource)});
console.log(JSON.stringify({ version: SDK_VERSION, failed }));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.same(JSON.parse(run.stdout), { version: pkg.version, failed: 0 });
});
