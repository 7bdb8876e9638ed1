import t from 'tap';
import { inlinedPackages } from '../../../src/agent/bundled.js';

// The markers the start-up warning looks for in a main script, and none in an ordinary app.
t.test('finds packages inlined by esbuild and webpack, nothing in an unbundled app', async (t) => {
  const esbuildOut = '// node_modules/express/lib/express.js\nvar x = 1;\n// ../../node_modules/@redis/client/dist/index.js\n';
  t.same([...inlinedPackages(esbuildOut)].sort(), ['@redis/client', 'express']);
  const webpackOut = '/***/ "./node_modules/pg/lib/client.js":\n/*!*** ./node_modules/pg/lib/client.js ***!*/\n';
  t.same([...inlinedPackages(webpackOut)], ['pg']);
  const app = "'use strict';\nconst express = require('express');\n// see node_modules docs\nconst p = 'node_modules';\n";
  t.same([...inlinedPackages(app)], []);
});
