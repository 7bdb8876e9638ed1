// A node:http server that reads its request body the classic way ('data'/'end') before answering,
// as plain-http services and body parsers do.
import http from 'node:http';

const server = http.createServer((req, res) => {
  let length = 0;
  req.on('data', (chunk) => (length += chunk.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`got ${length} bytes`);
  });
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
