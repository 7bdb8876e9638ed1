import { logsSuite } from './suite.js';

// pino 10: TRACING_LOGS_EXPORTER=otlp (protobuf and JSON), and TRACING_LOGS_INJECTION=false / opting
// out leaving the output byte-identical. A file of its own so that each pino file stays well inside
// tap's timeout on a loaded machine.
logsSuite({
  name: 'pino',
  folders: ['pino10'],
  records: false,
  files: ['pino-plain.log', 'pino-mixin.log', 'pino-formatted.log', 'pino-transport-file.log', 'pino-pretty.log'],
  levels: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'],
});
