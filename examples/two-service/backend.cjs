// The backend: a plain CommonJS http service with no tracing code at all.
'use strict';
const http = require('node:http');

const stock = { 42: { sku: 42, name: 'teapot', inStock: 3 } };

const server = http.createServer((req, res) => {
  const match = /^\/stock\/(\d+)$/.exec(req.url);
  if (!match) {
    res.writeHead(404).end();
    return;
  }
  // Simulate a database call.
  setTimeout(() => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stock[match[1]] ?? null));
  }, 15);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('disconnect', () => server.close());
