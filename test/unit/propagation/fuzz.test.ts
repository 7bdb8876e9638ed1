// Fuzz: at least 100,000 generated and mutated header sets (valid, truncated, oversized up to
// 64 KiB, binary, unicode, repeated) go to every extractor. Asserted: no throw, the result is a
// valid context or null, and inject -> extract of every valid result gives the same context.
// Deterministic (seeded), so a failure names a reproducible case.
import t from 'tap';
import { SpanContext } from '../../../src/api/span-context.js';
import { defaultGetter, defaultSetter } from '../../../src/api/carrier.js';
import { createPropagator } from '../../../src/propagation/factory.js';
import type { TextMapPropagator } from '../../../src/api/propagator.js';
import { parseTraceState } from '../../../src/propagation/w3c-trace-context.js';

const SETS = 100_000;
const NAMES = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'];
const single = NAMES.map((n) => [n, createPropagator(n === 'baggage' ? ['tracecontext', 'baggage'] : [n])] as const);
const everything = createPropagator(NAMES);
const extractors: (readonly [string, TextMapPropagator])[] = [...single, ['all', everything]];

let seed = 0x2545f491;
function rand(n: number): number {
  // xorshift32: fast, seeded, good enough to spread cases.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const HEX_POOL = Array.from({ length: 4096 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
const hex = (n: number) => {
  const at = rand(HEX_POOL.length - n);
  return HEX_POOL.slice(at, at + n);
};
const token = () => Array.from({ length: 1 + rand(8) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-_.'[rand(39)]).join('');
const UNICODE = ['é', '€', '😀', '\ud800', '\udc00', '\u0000', '\u00ff', '\u2028', ' ', '\t', ',', ';', '=', '%', '"', '\\'];
// Lone surrogates cannot be written as UTF-8 (they become U+FFFD), so valid contexts leave them out.
const VALUE_CHARS = UNICODE.filter((c) => !/^[\ud800-\udfff]$/.test(c));

function randomContext(): SpanContext {
  const entries = Array.from({ length: rand(5) }, (_, i) => `k${i}${token().replace(/[^a-z0-9_-]/g, '')}=${hex(1 + rand(20))}`);
  const baggage: Record<string, string> = Object.create(null);
  for (let i = rand(4); i > 0; i--) baggage[token().toLowerCase()] = Array.from({ length: rand(6) }, () => (rand(3) === 0 ? pick(VALUE_CHARS) : hex(1))).join('');
  return new SpanContext(hex(32).replace(/^0/, 'a'), hex(16).replace(/^0/, 'b'), rand(4), entries.join(','), Object.keys(baggage).length ? baggage : null, true);
}

const b3multi = createPropagator(['b3multi']);
function validHeaders(ctx: SpanContext): Record<string, string> {
  const out: Record<string, string> = {};
  everything.inject(ctx, out, defaultSetter);
  b3multi.inject(ctx, out, defaultSetter);
  return out;
}

const BIG = 'x'.repeat(64 * 1024);
function mutate(value: string): string | string[] {
  switch (rand(12)) {
    case 0: return value.slice(0, rand(value.length + 1)); // truncated
    case 1: { const i = rand(value.length + 1); return value.slice(0, i) + pick(UNICODE) + value.slice(i); }
    case 2: { const i = rand(value.length + 1); return value.slice(0, i) + String.fromCharCode(rand(256)) + value.slice(i + 1); } // binary
    case 3: return value.toUpperCase();
    case 4: return [value, value]; // repeated
    case 5: return `${value}, ${value}`;
    case 6: return rand(20) === 0 ? value + BIG.slice(0, rand(BIG.length - value.length)) : value + ',' + value; // oversized
    case 7: return value.replace(/-/g, pick(['', '--', ':', '_']));
    case 8: return ` \t${value}\t `;
    case 9: return value.split('').reverse().join('');
    case 10: return Array.from({ length: rand(40) }, () => String.fromCharCode(rand(0x3000))).join(''); // random unicode
    default: return value;
  }
}

// Valid sets are made once and mutated per case: generation would otherwise cost more than parsing.
const VALID_SETS = Array.from({ length: 1000 }, () => validHeaders(randomContext()));
function headerSet(): Record<string, string | string[]> {
  const base: Record<string, string | string[]> = { ...pick(VALID_SETS) };
  const keys = Object.keys(base);
  for (let i = rand(4); i > 0; i--) {
    const k = pick(keys);
    base[k] = mutate(typeof base[k] === 'string' ? (base[k] as string) : (base[k] as string[])[0]!);
  }
  if (rand(10) === 0) delete base[pick(keys)];
  if (rand(50) === 0) base[pick(['__proto__', 'constructor', 'uberctx-__proto__', 'hasOwnProperty'])] = pick(['x', 'a=1']);
  return base;
}

function asCarrier(headers: Record<string, string | string[]>): unknown {
  switch (rand(6)) {
    case 0: return new Map(Object.entries(headers));
    case 1: return Object.entries(headers).flatMap(([k, v]) => (typeof v === 'string' ? [k, v] : v.flatMap((x) => [k, x])));
    case 2: return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    default: return headers;
  }
}

function problem(ctx: SpanContext | null): string | null {
  if (ctx === null) return null;
  if (!(ctx instanceof SpanContext)) return 'not a SpanContext';
  if (!/^[0-9a-f]{32}$/.test(ctx.traceId) || /^0+$/.test(ctx.traceId)) return `trace id ${ctx.traceId}`;
  if (!/^[0-9a-f]{16}$/.test(ctx.spanId) || /^0+$/.test(ctx.spanId)) return `span id ${ctx.spanId}`;
  if (!Number.isInteger(ctx.traceFlags) || ctx.traceFlags < 0 || ctx.traceFlags > 3) return `flags ${ctx.traceFlags}`;
  if (ctx.traceState !== '' && parseTraceState(ctx.traceState) !== ctx.traceState) return `tracestate ${ctx.traceState}`;
  if (ctx.baggage !== null) {
    if ((ctx.baggage as Record<string, unknown>).hasOwnProperty !== undefined && !Object.hasOwn(ctx.baggage, 'hasOwnProperty')) return 'baggage inherits from Object.prototype';
    for (const v of Object.values(ctx.baggage)) if (typeof v !== 'string') return 'baggage value not a string';
  }
  return null;
}

function sameContext(a: SpanContext, b: SpanContext | null, name: string): string | null {
  if (b === null) return 'round trip lost the context';
  if (a.traceId !== b.traceId || a.spanId !== b.spanId) return 'ids changed';
  const flagMask = name === 'tracecontext' || name === 'baggage' || name === 'all' ? 3 : 1;
  if ((a.traceFlags & flagMask) !== (b.traceFlags & flagMask)) return 'flags changed';
  if (flagMask === 3 && a.traceState.length <= 512 && a.traceState !== b.traceState) return 'tracestate changed';
  if (a.baggage !== null && (name === 'baggage' || name === 'jaeger' || name === 'all')) {
    // Jaeger carries keys in header names, which are case-insensitive: compare its keys that way.
    const caseless = name !== 'baggage';
    for (const [k, v] of Object.entries(b.baggage ?? {})) {
      if (a.baggage[k] === v) continue;
      if (caseless && Object.keys(a.baggage).some((ak) => ak.toLowerCase() === k && a.baggage![ak] === v)) continue;
      return `baggage ${k} changed: ${JSON.stringify(v)} from ${JSON.stringify(a.baggage)}`;
    }
    const written = Object.keys(a.baggage).filter((k) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k));
    const distinct = caseless ? new Set(written.map((k) => k.toLowerCase())).size : written.length;
    if (distinct <= 16 && JSON.stringify(a.baggage).length < 2048 && Object.keys(b.baggage ?? {}).length < distinct) return 'baggage items lost';
  }
  return null;
}

t.test(`${SETS} generated and mutated header sets through every extractor`, async (t) => {
  let failures = 0;
  let valid = 0;
  const report = (msg: string) => {
    if (failures++ < 5) t.fail(msg);
  };
  for (let i = 0; i < SETS; i++) {
    const headers = headerSet();
    const carrier = asCarrier(headers);
    for (const [name, p] of extractors) {
      let ctx: SpanContext | null;
      try {
        ctx = p.extract(carrier, defaultGetter, null);
      } catch (err) {
        report(`${name} threw on ${JSON.stringify(headers).slice(0, 300)}: ${String(err)}`);
        continue;
      }
      const bad = problem(ctx);
      if (bad !== null) report(`${name} gave an invalid context (${bad}) for ${JSON.stringify(headers).slice(0, 300)}`);
      if (ctx === null || bad !== null) continue;
      valid++;
      const out: Record<string, string> = {};
      p.inject(ctx, out, defaultSetter);
      const diff = sameContext(ctx, p.extract(out, defaultGetter, null), name);
      if (diff !== null) report(`${name} round trip: ${diff} for ${JSON.stringify(headers).slice(0, 300)}`);
    }
  }
  t.equal(failures, 0, 'no throw, no invalid result, round trips are identity');
  t.ok(valid > SETS / 4, `a good share of sets were valid (${valid} contexts), so round trips were exercised`);
});

t.test('valid contexts injected in every format extract to the same context', async (t) => {
  let failures = 0;
  for (let i = 0; i < 2000; i++) {
    const ctx = randomContext();
    for (const [name, p] of extractors) {
      const out: Record<string, string> = {};
      p.inject(ctx, out, defaultSetter);
      const diff = sameContext(ctx, p.extract(out, defaultGetter, null), name);
      if (diff !== null && failures++ < 5) t.fail(`${name}: ${diff} for ${JSON.stringify(out)}`);
    }
  }
  t.equal(failures, 0);
});
