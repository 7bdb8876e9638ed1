import t from 'tap';
import satisfies = require('semver/functions/satisfies');
import { satisfiesSimpleRange } from '../../../src/agent/version-range.js';
import { instrumentations } from '../../../instrumentations/index.js';

// The registry checks instrumentation ranges without loading semver: every answer it gives must be semver's.
const versions = [
  '0.0.0', '0.13.0', '0.13.1-beta', '1.0.0', '1.0.0-0', '1.0.0-rc.1', '1.7.9', '1.8.0-0', '1.8.0-alpha', '1.8.0', '1.12.6',
  '2.0.0-0', '2.0.0', '3.99.99', '4.0.0-0', '4.0.0-beta.1', '4.0.0', '4.21.2', '5.0.0-beta.3', '5.1.0', '5.1.0+build.7',
  '6.0.0-0', '6.0.0-alpha', '6.0.0', '10.9.9', '11.0.0-pre', '13.4.0-canary.1', '13.4.0', '16.9.0', '17.0.0-alpha.2', '21.3.2', '22.0.0',
  '1.2.3-x-y.0.z', '1.2.3-alpha.00', '01.2.3', '1.2', 'v1.2.3', '=1.2.3', '1.2.3.4', 'not a version', '',
];
const declared = [...new Set(instrumentations.flatMap((d) => d.modules.map((m) => m.versions)))];
const ranges = [...declared, '>=4', '<6', '>=1.8 <2', '>=1.8.0 <2.0.0', '>=4.0.0-0', '^1.0.0', '~2.3', '1.x', '>=1 || <0.5', '>4', '<=5', '=5.1.0', '5.1.0', ' >=4  <6 '];

t.test('every answer matches semver.satisfies with includePrerelease; what it cannot read is null', async (t) => {
  let answered = 0;
  for (const range of ranges) {
    for (const version of versions) {
      const mine = satisfiesSimpleRange(version, range);
      if (mine === null) continue;
      answered++;
      t.equal(mine, satisfies(version, range, { includePrerelease: true }), `${version} in "${range}"`);
    }
  }
  t.ok(answered > 300, `answered ${answered} pairs`);
});

t.test('every range an instrumentation declares is read without semver', async (t) => {
  for (const range of declared) t.not(satisfiesSimpleRange('1.0.0', range), null, range);
});

t.test('other syntax and loose versions are left to semver', async (t) => {
  for (const range of ['^1.0.0', '~2.3', '1.x', '>=1 || <0.5', '>4', '<=5', '=5.1.0', '5.1.0', '>=4.0.0-0']) t.equal(satisfiesSimpleRange('1.0.0', range), null, range);
  for (const version of ['01.2.3', '1.2', 'v1.2.3', '=1.2.3', '1.2.3-alpha.00', '']) t.equal(satisfiesSimpleRange(version, '>=1'), null, version);
});
