// The "empty script" whose start-up the benchmark times; it only reports its memory at the end.
const { rss, heapUsed } = process.memoryUsage();
console.log(JSON.stringify({ rss, heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 }));
