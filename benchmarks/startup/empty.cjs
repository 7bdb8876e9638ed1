// The CommonJS twin of empty.mjs.
const { rss, heapUsed } = process.memoryUsage();
console.log(JSON.stringify({ rss, heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 }));
