// The plain http app of benchmarks/overhead/apps plus HOT_FUNCTIONS (default 0) distinct small functions, each
// called once per request through one megamorphic call site (so none is inlined into another): what each
// function that gets hot when a load starts costs in peak RSS, with no agent (issue 20, Node 24). Every such
// function is one Maglev job at the load's start, and the jobs' zones are alive at once (./zone-burst.mjs).
// Usage: HOT_FUNCTIONS=50 node benchmarks/memory/under-load.mjs --variants none --app benchmarks/memory/hot-functions-app.mjs
import http from 'node:http';

const count = Number(process.env.HOT_FUNCTIONS ?? 0);
let source = 'const fns = [];\n';
for (let i = 0; i < count; i++) {
  source += `fns.push(function hot${i}(o, n) { const x = o.a${i % 7} + n * ${i + 1}; if (x > 1e9) o.b = x; return (x ^ ${i}) & 1023; });\n`;
}
const fns = new Function(`${source}return fns;`)();
const state = { a0: 1, a1: 2, a2: 3, a3: 4, a4: 5, a5: 6, a6: 7, b: 0 };
let total = 0;

const server = http.createServer((req, res) => {
  for (let i = 0; i < fns.length; i++) total += fns[i](state, i);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(total >= 0 ? 'hello world' : 'hello');
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
