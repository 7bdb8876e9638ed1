// graphql 16's ES-module build (graphql/index.mjs and the .mjs files it imports), under the agent: the
// scenarios of suite.ts against an app that runs graphql() of that build (the .mjs files are hooked
// by the same targets as the CommonJS ones).
import t from 'tap';
import { KINDS, runKinds, suiteDatabase } from './suite.js';

t.test('graphql 16 ES-module build', async (t) => {
  const db = await suiteDatabase(t);
  runKinds(t, db, KINDS.filter((k) => k.folder === 'esm-build'));
});
