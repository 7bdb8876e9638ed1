import { logsSuite } from './suite.js';

// pino 9 and 10 (7 and 8 in pino-7-8.test.ts; OTLP export and byte-identity in pino-export.test.ts):
// pino.destination, a child, a user mixin, formatters.log, transports in
// worker threads (pino/file, pino-pretty), every level, fields the user set.
logsSuite({
  name: 'pino',
  folders: ['pino9', 'pino10'],
  exportAndIdentity: false,
  files: ['pino-plain.log', 'pino-mixin.log', 'pino-formatted.log', 'pino-transport-file.log', 'pino-pretty.log'],
  levels: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
  extra(tt, records) {
    const inTrace = records.filter((r) => typeof r.fields.trace_id === 'string' && (r.fields.trace_id as string).length === 32);
    tt.ok(inTrace.filter((r) => r.file === 'pino-mixin.log').every((r) => r.fields.tenant === 'acme'), "the user's mixin fields are merged with the ids");
    tt.ok(inTrace.filter((r) => r.file === 'pino-formatted.log').every((r) => r.fields.rebuilt === true), 'formatters.log ran, and the ids survived its new object');
    tt.ok(inTrace.some((r) => r.fields.component === 'child'), 'child loggers carry the ids');
  },
});
