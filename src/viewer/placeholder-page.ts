// Served at / and /trace/:id when the page build (dist/viewer-page/index.html) is missing, e.g. when
// only the server was compiled. Plain HTML, no script or style, so the CSP holds.

/** A minimal page that points at the JSON API. */
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tracing-agent viewer</title></head>
<body>
<h1>tracing-agent viewer</h1>
<p>The viewer's page is not built in this installation. The server works: the trace list is at
<a href="/api/traces">/api/traces</a> (JSON), one trace at /api/traces/&lt;traceId&gt;.</p>
</body>
</html>
`;
