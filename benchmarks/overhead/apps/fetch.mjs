// An http server whose handler calls one downstream service with fetch, as a user writes it.
import http from 'node:http';

const backend = process.env.BACKEND_URL ?? 'http://127.0.0.1:4000/';

const server = http.createServer(async (req, res) => {
  try {
    const upstream = await fetch(backend);
    const text = await upstream.text();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream: ${text}`);
  } catch {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('upstream failed');
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
