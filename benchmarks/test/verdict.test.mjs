// A cell in which the agent traced nothing must never be reported as a fast, valid figure.
import assert from 'node:assert/strict';
import test from 'node:test';
import { applySameAs, judgeCell } from '../overhead/verdict.mjs';

const okLoad = { requests: 10000, errors: 0, timeouts: 0, non2xx: 0 };
const base = { verifyRequests: 20, verifyOk: 20, load: okLoad, verifySpans: 0, totalSpans: 0, backendRequests: 0, backendTraced: 0 };

test('an exporting agent whose spans never reached the sink is invalid', () => {
  const reasons = judgeCell({ ...base, expects: 'spans', callsDownstream: false });
  assert.deepEqual(reasons, ['no spans reached the sink']);
});

test('an exporting agent that does not propagate to the downstream call is invalid', () => {
  const cell = { ...base, expects: 'spans', callsDownstream: true, verifySpans: 40, backendRequests: 20, backendTraced: 0 };
  assert.match(judgeCell(cell).join(), /trace header on 0\/20/);
});

test('an agent that exports and propagates is valid', () => {
  const cell = { ...base, expects: 'spans', callsDownstream: true, verifySpans: 40, backendRequests: 20, backendTraced: 20 };
  assert.deepEqual(judgeCell(cell), []);
});

test('failed requests under load invalidate a cell, whatever the agent did', () => {
  const cell = { ...base, expects: 'nothing', callsDownstream: false, load: { ...okLoad, non2xx: 500 } };
  assert.match(judgeCell(cell).join(), /500 of 10000 requests failed/);
});

test('a disabled agent that still exports or propagates is invalid', () => {
  const cell = { ...base, expects: 'off', callsDownstream: true, totalSpans: 3, backendRequests: 20, backendTraced: 20 };
  assert.equal(judgeCell(cell).length, 2);
});

test('an unsampled row without a downstream call follows its sampled twin', () => {
  const agents = [{ id: 'ours' }, { id: 'ours-unsampled', sameAs: 'ours' }];
  const cells = [
    { app: 'http', round: 1, agent: 'ours', invalid: ['no spans reached the sink'], callsDownstream: false },
    { app: 'http', round: 1, agent: 'ours-unsampled', invalid: [], callsDownstream: false },
    { app: 'express', round: 1, agent: 'ours', invalid: [], callsDownstream: false },
    { app: 'express', round: 1, agent: 'ours-unsampled', invalid: [], callsDownstream: false },
  ];
  applySameAs(cells, agents);
  assert.equal(cells[1].invalid.length, 1);
  assert.equal(cells[3].invalid.length, 0);
});
