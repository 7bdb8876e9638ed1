import { logsSuite } from './suite.js';

// bunyan 1.x: two JSON streams (one at warn), a raw stream, serializers, a child, every level,
// fields the user set.
logsSuite({
  name: 'bunyan',
  folders: ['bunyan1'],
  files: ['bunyan-a.log', 'bunyan-b.log', 'bunyan-raw.log'],
  levels: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
  extra(tt, records) {
    const users = records.filter((r) => r.fields.user !== undefined);
    tt.ok(users.length > 0 && users.every((r) => JSON.stringify(r.fields.user) === '{"id":7}'), 'serializers still apply');
    tt.ok(records.some((r) => r.fields.component === 'child' && typeof r.fields.span_id === 'string'), 'child loggers carry the ids');
  },
});
