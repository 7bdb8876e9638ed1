// The frontend: an ES-module http service that calls the backend with fetch and with http.get.
// It has no tracing code: the agent (--import @acme/tracing-agent/register) does it all.
import { createServer, get } from 'node:http';

const backend = process.env.BACKEND_URL;

function getJson(url) {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const match = /^\/orders\/(\d+)$/.exec(req.url);
  if (!match) {
    res.writeHead(404).end();
    return;
  }
  const viaFetch = await (await fetch(`${backend}/stock/${match[1]}`)).json();
  const viaHttp = await getJson(`${backend}/stock/${match[1]}`);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ order: match[1], item: viaFetch, checked: viaHttp.inStock === viaFetch.inStock }));
});

server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => server.close());
