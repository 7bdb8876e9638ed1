// The interleaved harness's verdicts rest on these: a goal inside the interval is "not resolved",
// never "yes" or "no", and the interval must see a round whose processes all read differently.
import assert from 'node:assert/strict';
import test from 'node:test';
import { intervalVerdict, summarizePasses } from '../overhead/intervals.mjs';

test('a goal is met or missed only by the whole interval; inside it the run cannot tell', () => {
  assert.equal(intervalVerdict({ value: 0.9, interval: [0.86, 0.94], atLeast: 0.85 }), 'yes');
  assert.equal(intervalVerdict({ value: 0.9, interval: [0.84, 0.94], atLeast: 0.85 }), 'not resolved');
  assert.equal(intervalVerdict({ value: 0.8, interval: [0.75, 0.84], atLeast: 0.85 }), 'no');
  assert.equal(intervalVerdict({ value: 1.1, interval: [1.0, 1.2], atMost: 1.2 }), 'yes');
  assert.equal(intervalVerdict({ value: 1.1, interval: [1.0, 1.3], atMost: 1.2 }), 'not resolved');
  assert.equal(intervalVerdict({ value: 3, interval: [2.5, 3.5], atMost: 2 }), 'no');
  assert.equal(intervalVerdict({ value: 0.9, interval: null, atLeast: 0.85 }), 'yes (no spread: too few passes)');
  assert.equal(intervalVerdict({ value: null, interval: null, atLeast: 0.85 }), 'not measured');
});

test('passes of agreeing rounds give a narrow interval around their median', () => {
  const s = summarizePasses([[0.9, 0.91, 0.89, 0.9], [0.9, 0.92, 0.88, 0.9], [0.91, 0.9, 0.89, 0.9]], { seed: 3 });
  assert.equal(s.median, 0.9);
  assert.equal(s.passes, 12);
  assert.equal(s.rounds, 3);
  assert.ok(s.interval[0] >= 0.89 && s.interval[1] <= 0.91, `${s.interval}`);
});

test('rounds are resampled, so one round that reads apart widens the interval past what its passes alone show', () => {
  const apart = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0.7, 0.7, 0.7, 0.7, 0.7, 0.7]];
  const s = summarizePasses(apart, { seed: 5 });
  assert.equal(s.median, 1);
  assert.equal(s.interval[0], 0.7);
  assert.deepEqual(s.roundMedians, [1, 1, 0.7]);
});

test('missing values are dropped, and fewer than three leave no interval', () => {
  const s = summarizePasses([[null, 0.9], [Number.NaN], []]);
  assert.equal(s.median, 0.9);
  assert.equal(s.interval, null);
  assert.equal(s.rounds, 1);
  assert.equal(summarizePasses([]).median, null);
});
