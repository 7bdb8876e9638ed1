import t from 'tap';
import { instrumentations } from '../../../instrumentations/index.js';
import { SUPPORTED_MODULES } from '../../../src/cli/installed-modules.js';

// The `config` command answers without loading instrumentation code: its table is derived from the
// declarations in instrumentations/index.ts. This checks the derivation keeps every declared range.
t.test('the config command reports the ranges the instrumentations declare', async (t) => {
  for (const entry of instrumentations) {
    const reported = SUPPORTED_MODULES[entry.name];
    t.ok(reported, `${entry.name} has a row in the config command's table`);
    for (const target of entry.modules) {
      const row = reported!.find((m) => m.name === target.name);
      t.ok(row, `${entry.name}: ${target.name} is listed`);
      t.equal(row?.versions, target.versions, `${entry.name}: ${target.name} range`);
    }
  }
});

t.test("a shipped instrumentation's facts are written once, in its registry line", async (t) => {
  for (const entry of instrumentations) {
    const code = entry.load() as object;
    t.notOk('name' in code || 'modules' in code, `${entry.name}: its code file declares no name or modules of its own`);
  }
});
