// Apollo Server 5 standalone (startStandaloneServer), as .cjs and .mjs, under the agent: the scenarios of suite.ts (one file per kind of app, so
// each stays well inside tap's timeout on a loaded machine).
import t from 'tap';
import { KINDS, runKinds, suiteDatabase } from './suite.js';

t.test('Apollo Server 5 standalone (startStandaloneServer)', async (t) => {
  const db = await suiteDatabase(t);
  runKinds(t, db, KINDS.filter((k) => k.folder === 'apollo5' && k.env?.APOLLO_MODE === 'standalone'));
});
