// Bytes allocated a request, by allocating function, from a V8 sampling heap profile (HeapProfiler.stopSampling's
// `profile`, as ./heap-sample.cjs writes it for ./attribute.mjs --allocations yes). Two tables: by the function
// that allocated (the stack's top frame), and by the innermost frame of the agent on the stack (a frame whose
// script is under `agentDir`: what our code allocates, itself or through Node's functions it calls); the rest of
// the bytes are the app's and Node's own.
// Usage (standalone): node benchmarks/cpu/heap-profile-summary.mjs <profile.json> <requests> <agentDir> [rows]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const name = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();

/** `{ total, byTop: [[name, bytes]], byAgent: [[name, bytes]], agentTotal }`, bytes a request. */
export function summarize(profile, requests, agentDir) {
  const byTop = new Map();
  const byAgent = new Map();
  let total = 0;
  let agentTotal = 0;
  const isAgent = (url) => url !== '' && (url.startsWith(agentDir) || url.startsWith(`file://${agentDir}`));
  const walk = (node, innermostAgent) => {
    const frame = node.callFrame;
    const agentHere = isAgent(frame.url) ? name(frame) : innermostAgent;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const top = name(frame);
      byTop.set(top, (byTop.get(top) ?? 0) + node.selfSize);
      if (agentHere !== null) {
        agentTotal += node.selfSize;
        byAgent.set(agentHere, (byAgent.get(agentHere) ?? 0) + node.selfSize);
      }
    }
    for (const child of node.children) walk(child, agentHere);
  };
  walk(profile.head, null);
  const per = (m) => [...m].map(([k, v]) => [k, v / requests]).sort((a, b) => b[1] - a[1]);
  return { total: total / requests, agentTotal: agentTotal / requests, byTop: per(byTop), byAgent: per(byAgent) };
}

export function formatSummary(s, rows = 20) {
  const lines = [`allocated ${s.total.toFixed(0)} B a request (sampled), ${s.agentTotal.toFixed(0)} B under the agent's frames`];
  lines.push('  by allocating function:');
  for (const [k, v] of s.byTop.slice(0, rows)) lines.push(`    ${v.toFixed(1).padStart(8)}  ${k}`);
  lines.push("  by the agent's innermost frame:");
  for (const [k, v] of s.byAgent.slice(0, rows)) lines.push(`    ${v.toFixed(1).padStart(8)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, requests, agentDir, rows] = process.argv.slice(2);
  console.log(formatSummary(summarize(JSON.parse(readFileSync(file, 'utf8')), Number(requests), path.resolve(agentDir)), Number(rows ?? 20)));
}
