import t from 'tap';
import { instrumentations } from '../../../instrumentations/index.js';
import { SUPPORTED_MODULES } from '../../../src/cli/installed-modules.js';

// The `config` command keeps its own table so that it can answer without loading instrumentation
// code; this keeps that table honest against what each instrumentation really declares.
t.test('the config command reports the ranges the instrumentations declare', async (t) => {
  for (const entry of instrumentations) {
    const def = entry.load();
    const reported = SUPPORTED_MODULES[entry.name as keyof typeof SUPPORTED_MODULES];
    t.ok(reported, `${entry.name} has a row in the config command's table`);
    for (const target of def.modules) {
      const row = reported.find((m) => m.name === target.name);
      t.ok(row, `${entry.name}: ${target.name} is listed`);
      t.equal(row?.versions, target.versions, `${entry.name}: ${target.name} range`);
    }
  }
});
