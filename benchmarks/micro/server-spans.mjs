// Finished spans shaped like the plain http server's, for the export benchmarks that count instructions
// (encode-instructions.mjs, batch-instructions.mjs): span.kind, http.method, http.url, peer.ipv4, peer.port,
// http.status_code; one `http.url` string for all, as the server's one-entry cache gives; a peer address
// and port per connection (one address string per connection, as a socket's remoteAddress is: not the
// same string object), eight connections taking turns at random with a fixed seed, so every build and run
// encodes the same sequence.

/** `count` finished spans of a tracer built from the given build's `Tracer` class. */
export function finishedServerSpans(Tracer, count = 1024) {
  const finished = [];
  const tracer = new Tracer({ processor: { onEnd: (span) => finished.push(span), forceFlush: async () => {}, shutdown: async () => {} } });
  const connections = Array.from({ length: 8 }, (_, i) => ({ ip: ['127', '0', '0', '1'].join('.'), port: 40000 + i * 7 }));
  const url = ['http://127.0.0.1:', '3000', '/'].join('');
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < count; i++) {
    const c = connections[Math.floor(random() * 8)];
    const span = tracer.startSpan('GET', { ignoreActiveSpan: true });
    span.setTag('span.kind', 'server');
    span.setTag('http.method', 'GET');
    span.setTag('http.url', url);
    span.setTag('peer.ipv4', c.ip);
    span.setTag('peer.port', c.port);
    span.setTag('http.status_code', 200);
    span.finish();
  }
  return finished;
}
