// An http server whose handler starts one OpenTelemetry API span per request (startActiveSpan) and
// answers from a setImmediate inside it: the path of an app instrumented by hand with the API, which
// the agent serves through its bridge (without an agent the API is a no-op).
import http from 'node:http';
import { trace } from '@opentelemetry/api';

const tracer = trace.getTracer('bench-app');

const server = http.createServer((req, res) => {
  tracer.startActiveSpan('handle', (span) => {
    span.setAttribute('app.user', 'ada');
    setImmediate(() => {
      span.end();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello world');
    });
  });
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
