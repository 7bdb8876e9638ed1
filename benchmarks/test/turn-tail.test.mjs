// stalls.mjs reads the closed loop's tail from the probe's longest turns: the number of turns that can
// delay the slowest 1 % of requests, and what those turns carried.
import assert from 'node:assert/strict';
import test from 'node:test';
import { tailTurns } from '../overhead/turn-tail.mjs';

const top = [
  [2400, 2300, 'gc'],
  [1900, 1850, 'plain'],
  [900, 880, 'send'],
  [850, 840, 'gc'],
  [700, 690, 'write'],
  [400, 390, 'plain'],
];

test('10,000 requests over 10 connections: the 10 longest turns, as many as the probe kept', () => {
  const tail = tailTurns(top, 10_000, 10);
  assert.equal(tail.count, 10);
  assert.ok(Number.isNaN(tail.lastWallUs), 'fewer turns kept than needed: no figure rather than a wrong one');
});

test('4,000 requests over 10 connections: the 4 longest turns', () => {
  const tail = tailTurns(top, 4000, 10);
  assert.equal(tail.count, 4);
  assert.equal(tail.lastWallUs, 850);
  assert.deepEqual(tail.kinds, { gc: 2, plain: 1, send: 1 });
});

test('fewer connections: more turns make the tail', () => {
  assert.equal(tailTurns(top, 4000, 2).count, 20);
  assert.equal(tailTurns(top, 10, 10).count, 1, 'at least one');
});
