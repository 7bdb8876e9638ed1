// The ES-module twin of app.cjs.
import express from 'express';

const app = express();
app.get('/hello/:name', (req, res) => res.json({ hello: req.params.name }));
const server = app.listen(0, '127.0.0.1', () => {
  server.close(() => {
    const { rss, heapUsed } = process.memoryUsage();
    console.log(JSON.stringify({ rss, heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 }));
  });
});
