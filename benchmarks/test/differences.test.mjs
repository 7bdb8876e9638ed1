import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMedianInterval, describeDifference, quantile, seededRandom, shuffled, summarizeDifferences } from '../cpu/differences.mjs';

test('quantiles interpolate between order statistics, whatever the input order', () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([10, 0], 0.25), 2.5);
  assert.equal(quantile([5], 0.75), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('the seeded order is reproducible and a permutation', () => {
  const a = shuffled([1, 2, 3, 4, 5, 6], seededRandom(7));
  assert.deepEqual(a, shuffled([1, 2, 3, 4, 5, 6], seededRandom(7)));
  assert.deepEqual([...a].sort(), [1, 2, 3, 4, 5, 6]);
  assert.notDeepEqual(shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(7)), shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(8)));
});

test('the bootstrap interval of the median brackets the median and narrows with agreeing rounds', () => {
  const wide = bootstrapMedianInterval([-3, 4, 1, -2, 5, 0, 2], { random: seededRandom(3) });
  const narrow = bootstrapMedianInterval([1.9, 2.1, 2, 2.05, 1.95, 2, 2.02], { random: seededRandom(3) });
  assert.ok(wide[0] <= 1 && wide[1] >= 1, `${wide} holds the median 1`);
  assert.ok(narrow[0] >= 1.9 && narrow[1] <= 2.1, `${narrow} within the rounds' range`);
  assert.ok(narrow[1] - narrow[0] < wide[1] - wide[0]);
});

test('a 1.5 µs difference that every round agrees on is resolved', () => {
  const s = summarizeDifferences([1.4, 1.6, 1.5, 1.3, 1.7, 1.55, 1.45]);
  assert.equal(s.rounds, 7);
  assert.equal(s.median, 1.5);
  assert.equal(s.resolved, true);
  assert.doesNotMatch(describeDifference(s), /NOT RESOLVED/);
});

test('a difference that rounds swing across is reported as smaller than its spread', () => {
  const s = summarizeDifferences([1.5, -2, 4, -1, 3, 0.5, -3]);
  assert.equal(s.resolved, false);
  assert.match(describeDifference(s), /^\+0\.50 µs \(IQR .*\): NOT RESOLVED, the difference is smaller than its spread$/);
});

test('a consistent sign but a median below half the interquartile range is not resolved either', () => {
  const s = summarizeDifferences([0.2, 0.3, 6, 7, 0.25, 8, 0.1, 9]);
  assert.ok(s.interval[0] > 0, 'every round is above 0');
  assert.ok(Math.abs(s.median) < s.iqr / 2);
  assert.equal(s.resolved, false);
});

test('two rounds are never judged', () => {
  const s = summarizeDifferences([2, 2.1]);
  assert.equal(s.resolved, false);
  assert.match(describeDifference(s), /too few rounds/);
});
