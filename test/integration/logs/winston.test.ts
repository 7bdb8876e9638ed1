import { logsSuite } from './suite.js';

// winston 3: format.combine + format.json, format.printf with the ids in its template, two
// transports with their own formats, a child logger, every npm level, fields the user set.
logsSuite({
  name: 'winston',
  folders: ['winston3'],
  files: ['winston-json.log', 'winston-printf.log'],
  levels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
  extra(tt, records) {
    const json = records.filter((r) => r.file === 'winston-json.log' && typeof r.fields.trace_id === 'string' && (r.fields.trace_id as string).length === 32);
    tt.ok(json.length > 0 && json.every((r) => r.fields.label === 'app'), 'format.combine ran its formats on records with ids');
    tt.ok(json.some((r) => r.fields.component === 'child'), 'child loggers carry the ids');
  },
});
