// Ids come from the kernel's generator for the first 16 KiB block (read from /dev/urandom with fs), so a
// short process never loads crypto (~15 internal modules); an AES-256-CTR keystream keyed from it fills every later block.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNodeUntracked } from '../../helpers/run-node.js';

// Untracked (runNodeUntracked): the NODE_OPTIONS tap's process tracking adds to every child loads crypto.

const IDS = path.join(ROOT, 'dist', 'src', 'util', 'ids.js');
const SCRIPT = `
const ids = require(${JSON.stringify(IDS)});
const crypto = () => process.moduleLoadList.includes('NativeModule crypto');
const first = [ids.newTraceId(), ids.newSpanId(), ids.newTraceId()];
const firstBlockCrypto = crypto();
// 16 KiB per block: 1,100 trace ids (16 bytes each) need a second block.
const more = Array.from({ length: 1100 }, () => ids.newTraceId());
const all = [...first, ...more];
console.log(JSON.stringify({
  first,
  firstBlockCrypto,
  laterCrypto: crypto(),
  valid: all.every((id, i) => i === 1 ? ids.isValidSpanId(id) : ids.isValidTraceId(id)),
  distinct: new Set(all).size === all.length,
}));
`;

t.test('the first block of ids without crypto, later blocks with it; ids valid, distinct, and different per process', async (t) => {
  // A file, not \`node -e\`: Node's eval path loads crypto itself.
  const dir = mkdtempSync(path.join(tmpdir(), 'ids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'ids.cjs'), SCRIPT);
  writeFileSync(path.join(dir, 'check.cjs'), "console.log(JSON.stringify({ firstBlockCrypto: process.moduleLoadList.includes('NativeModule crypto') }));\n");
  t.equal(JSON.parse(runNodeUntracked([path.join(dir, 'check.cjs')]).stdout).firstBlockCrypto, false, 'the check itself: a plain script has no crypto');
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const r = runNodeUntracked([path.join(dir, 'ids.cjs')]);
    t.equal(r.code, 0, r.stderr);
    runs.push(JSON.parse(r.stdout) as { first: string[]; firstBlockCrypto: boolean; laterCrypto: boolean; valid: boolean; distinct: boolean });
  }
  for (const run of runs) {
    t.equal(run.firstBlockCrypto, process.platform === 'win32', 'crypto not loaded for the first block (Windows: loaded)');
    t.equal(run.laterCrypto, true, 'crypto loaded for the second block');
    t.equal(run.valid, true, 'every id is valid (non-zero, lower-case hex of its length)');
    t.equal(run.distinct, true, 'no id repeats');
  }
  t.not(runs[0]!.first[0], runs[1]!.first[0], 'two processes start with different trace ids');
});
