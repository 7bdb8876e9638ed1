// Instructions per request by function, from callgrind files of server-instructions.mjs (--keep), with
// V8's JIT code named per JavaScript function: callgrind sees optimised and baseline code only as
// addresses, and a server run with --perf-basic-prof writes /tmp/perf-<pid>.map, which names them.
// Exclusive counts (a function's own instructions, not its callees'), so the rows add up to the total.
// Usage: node benchmarks/micro/callgrind-functions.mjs <callgrind.out.N> <requests in that window>
//          [<other callgrind.out.M> <its requests>] [--rows 40] [--callers <regex>]
// --callers: instead, who calls the functions whose name matches the regex (e.g. KeyedLoadIC_Megamorphic):
// the calls' inclusive instructions and their number per request, by calling function (JIT code named).
// One file: its heaviest functions per request. Two: both side by side, sorted by the difference
// (second − first), the most added first and the most removed last.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const rowsAt = argv.indexOf('--rows');
const rows = rowsAt === -1 ? 40 : Number(argv[rowsAt + 1]);
const callersAt = argv.indexOf('--callers');
const callers = callersAt === -1 ? null : new RegExp(argv[callersAt + 1]);
const files = argv.filter((a, i) => !a.startsWith('--') && !(rowsAt !== -1 && i === rowsAt + 1) && !(callersAt !== -1 && i === callersAt + 1));
if (files.length !== 2 && files.length !== 4) {
  console.error('usage: node benchmarks/micro/callgrind-functions.mjs <callgrind.out.N> <requests> [<callgrind.out.M> <requests>] [--rows 40]');
  process.exit(2);
}

/** Exclusive instructions per function name; JIT addresses are named from the process's perf map. */
function functionsOf(file) {
  const names = new Map();
  const own = new Map();
  let pid = null;
  let current = null;
  let callee = null;
  let callLine = false;
  let calls = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('pid:')) pid = Number(line.slice(4));
    else if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      // Callgrind's name compression: `fn=(id) name` the first time, `fn=(id)` after.
      const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m === null) continue;
      if (m[2] !== undefined) names.set(m[1], m[2]);
      if (line.startsWith('fn=')) {
        current = names.get(m[1]) ?? m[1];
        callLine = false;
      } else callee = names.get(m[1]) ?? m[1];
    } else if (line.startsWith('calls=')) {
      callLine = true;
      calls = Number(line.slice(6).split(' ')[0]);
    } else if (/^[0-9+*-]/.test(line)) {
      // The line after `calls=` is the callee's inclusive cost, not this function's own.
      if (callLine) {
        callLine = false;
        if (callers !== null && callee !== null && current !== null && callers.test(callee)) {
          const cost = Number(line.split(' ')[1]);
          const row = own.get(current) ?? [0, 0];
          row[0] += Number.isFinite(cost) ? cost : 0;
          row[1] += calls;
          own.set(current, row);
        }
        continue;
      }
      if (callers !== null) continue;
      const cost = Number(line.split(' ')[1]);
      if (current !== null && Number.isFinite(cost)) own.set(current, (own.get(current) ?? 0) + cost);
    }
  }
  const jit = pid === null ? [] : perfMap(pid, path.dirname(file));
  const named = new Map();
  for (const [fn, cost] of own) {
    const name = /^0x[0-9a-f]+/.test(fn) ? jitName(jit, parseInt(fn, 16)) : fn;
    if (callers !== null) {
      const row = named.get(name) ?? [0, 0];
      row[0] += cost[0];
      row[1] += cost[1];
      named.set(name, row);
    } else named.set(name, (named.get(name) ?? 0) + cost);
  }
  return named;
}

/**
 * perf-<pid>.map (beside the callgrind file, where server-instructions.mjs --keep copies it, else in
 * /tmp) as [start, end, name], later entries first (code moved or replaced since).
 */
function perfMap(pid, dir) {
  const beside = path.join(dir, `perf-${pid}.map`);
  try {
    return readFileSync(existsSync(beside) ? beside : `/tmp/perf-${pid}.map`, 'utf8').split('\n').filter(Boolean).map((line) => {
      const [start, size, ...name] = line.split(' ');
      const from = parseInt(start, 16);
      // Tier markers (*, ~, ^, +) dropped: one row per JavaScript function whatever its tier.
      return [from, from + parseInt(size, 16), name.join(' ').replace(/^JS:[*~^+']?/, 'JS:')];
    }).reverse();
  } catch {
    return [];
  }
}

function jitName(map, address) {
  for (const [from, to, name] of map) if (address >= from && address < to) return name;
  return 'JIT code (not in the perf map)';
}

const k = (n) => `${(n / 1000).toFixed(1)} k`;
if (callers !== null) {
  // Per file: instructions (inclusive) and calls per request into the matching functions, by caller.
  for (let f = 0; f < files.length; f += 2) {
    const n = Number(files[f + 1]);
    const by = [...functionsOf(files[f])].sort((x, y) => y[1][0] - x[1][0]);
    console.log(`${files[f]}: calls into /${callers.source}/, ${k(by.reduce((s, [, r]) => s + r[0], 0) / n)} instructions per request`);
    for (const [name, [cost, count]] of by.slice(0, rows)) console.log(`${Math.round(cost / n).toString().padStart(9)} ${(count / n).toFixed(2).padStart(7)} calls  ${name.slice(0, 140)}`);
  }
  process.exit(0);
}
const a = functionsOf(files[0]);
const na = Number(files[1]);
const total = (m) => [...m.values()].reduce((x, y) => x + y, 0);
if (files.length === 2) {
  console.log(`${files[0]}: ${k(total(a) / na)} instructions per request`);
  for (const [name, cost] of [...a].sort((x, y) => y[1] - x[1]).slice(0, rows)) console.log(`${Math.round(cost / na).toString().padStart(9)}  ${name.slice(0, 140)}`);
} else {
  const b = functionsOf(files[2]);
  const nb = Number(files[3]);
  console.log(`per request: ${k(total(a) / na)} (${files[0]}) -> ${k(total(b) / nb)} (${files[2]})`);
  const diff = [...new Set([...a.keys(), ...b.keys()])].map((name) => [name, (a.get(name) ?? 0) / na, (b.get(name) ?? 0) / nb])
    .sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]));
  const show = ([name, x, y]) => console.log(`${Math.round(x).toString().padStart(9)} ${Math.round(y).toString().padStart(9)} ${(y - x >= 0 ? '+' : '') + Math.round(y - x)}`.padEnd(30) + `  ${name.length > 140 ? `${name.slice(0, 140)}…` : name}`);
  diff.slice(0, rows).forEach(show);
  console.log('…');
  diff.slice(-Math.min(10, Math.max(0, diff.length - rows))).forEach(show);
}
