// One test per MUST / MUST NOT (and the SHOULDs we follow) of W3C Trace Context Level 2,
// named after the rule. Spec: https://www.w3.org/TR/trace-context-2/
import t from 'tap';
import { SpanContext } from '../../../src/api/span-context.js';
import { truncateTraceState } from '../../../src/propagation/w3c-trace-context.js';
import { extract, inject, PARENT, SPAN, TRACE } from './helpers.js';

const tc = (headers: Record<string, unknown>) => extract('tracecontext', headers);

t.test('traceparent: version 00 with valid fields is accepted', async (t) => {
  const ctx = tc({ traceparent: PARENT });
  t.equal(ctx?.traceId, TRACE);
  t.equal(ctx?.spanId, SPAN);
  t.equal(ctx?.traceFlags, 1);
  t.equal(ctx?.isRemote, true);
});

t.test('traceparent: version ff is invalid', async (t) => {
  t.equal(tc({ traceparent: `ff-${TRACE}-${SPAN}-01` }), null);
});

t.test('traceparent: version must be 2 lower-case hex characters followed by a dash', async (t) => {
  for (const v of ['0g', 'AA', '0', '000', 'f']) t.equal(tc({ traceparent: `${v}-${TRACE}-${SPAN}-01` }), null, v);
});

t.test('traceparent: version 00 must be exactly 55 characters (nothing after trace-flags)', async (t) => {
  t.equal(tc({ traceparent: `${PARENT}-` }), null);
  t.equal(tc({ traceparent: `${PARENT}-extra` }), null);
  t.equal(tc({ traceparent: PARENT.slice(0, 54) }), null);
});

t.test('traceparent: a higher version is parsed by its first four fields', async (t) => {
  const ctx = tc({ traceparent: `cc-${TRACE}-${SPAN}-01-what-the-future-will-be-like` });
  t.equal(ctx?.traceId, TRACE);
  t.equal(ctx?.spanId, SPAN);
  t.equal(tc({ traceparent: `cc-${TRACE}-${SPAN}-01` })?.spanId, SPAN, 'exactly 55 characters');
  t.same(inject('tracecontext', ctx!), { traceparent: PARENT }, 'written back as version 00, the highest we know');
});

t.test('traceparent: a higher version shorter than 55 characters restarts the trace', async (t) => {
  t.equal(tc({ traceparent: `cc-${TRACE}-${SPAN}-1` }), null);
});

t.test('traceparent: a higher version must have trace-flags followed by a dash or the end', async (t) => {
  t.equal(tc({ traceparent: `cc-${TRACE}-${SPAN}-01.what-the-future-will-be-like` }), null);
  t.equal(tc({ traceparent: `cc-${TRACE}-${SPAN}-012` }), null);
});

t.test('traceparent: an all-zero trace-id is invalid and the header is ignored', async (t) => {
  t.equal(tc({ traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }), null);
});

t.test('traceparent: an all-zero parent-id is invalid and the header is ignored', async (t) => {
  t.equal(tc({ traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }), null);
});

t.test('traceparent: upper-case hex is invalid in every field', async (t) => {
  t.equal(tc({ traceparent: `00-${TRACE.toUpperCase()}-${SPAN}-01` }), null, 'trace-id');
  t.equal(tc({ traceparent: `00-${TRACE}-${SPAN.toUpperCase()}-01` }), null, 'parent-id');
  t.equal(tc({ traceparent: `00-${TRACE}-${SPAN}-0A` }), null, 'trace-flags');
});

t.test('traceparent: stray characters and wrong lengths are invalid', async (t) => {
  const bad = [
    `00-${TRACE.slice(1)}.-${SPAN}-01`, `00-${TRACE}1-${SPAN}-01`, `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00-${TRACE}-${SPAN.slice(1)}.-01`, `00-${TRACE}-${SPAN}1-01`, `00-${TRACE}-${SPAN.slice(1)}-01`,
    `00-${TRACE}-${SPAN}-.1`, `00-${TRACE}-${SPAN}-001`, `00-${TRACE}-${SPAN}-1`, `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}_${SPAN}-01`, `00-${TRACE}-${SPAN}_01`, '', ' ', 'garbage', `00-${TRACE}-${SPAN}-01\u0000`,
  ];
  for (const v of bad) t.equal(tc({ traceparent: v }), null, JSON.stringify(v));
});

t.test('traceparent: surrounding optional whitespace is not part of the value', async (t) => {
  t.equal(tc({ traceparent: ` \t${PARENT}\t ` })?.traceId, TRACE);
});

t.test('traceparent: repeated headers are invalid', async (t) => {
  t.equal(tc({ traceparent: [PARENT, PARENT] }), null, 'as an array');
  t.equal(tc({ traceparent: `${PARENT}, ${PARENT}` }), null, 'as joined by Node');
});

t.test('traceparent: header name is case-insensitive', async (t) => {
  t.equal(tc({ TraceParent: PARENT })?.traceId, TRACE);
  t.equal(tc({ TRACEPARENT: PARENT })?.traceId, TRACE);
});

t.test('trace-flags: the random flag received MUST be set in outgoing traceparent', async (t) => {
  const ctx = tc({ traceparent: `00-${TRACE}-${SPAN}-03` });
  t.equal(ctx?.traceFlags, 3);
  t.equal(inject('tracecontext', ctx!).traceparent, `00-${TRACE}-${SPAN}-03`);
});

t.test('trace-flags: the random flag unset when received MUST stay unset', async (t) => {
  const ctx = tc({ traceparent: `00-${TRACE}-${SPAN}-01` });
  t.equal(inject('tracecontext', ctx!).traceparent.slice(-2), '01');
});

t.test('trace-flags: undefined flag bits MUST be set to zero', async (t) => {
  const ctx = tc({ traceparent: `00-${TRACE}-${SPAN}-ff` });
  t.equal(ctx?.traceFlags, 3, 'sampled and random kept, others cleared');
  t.equal(inject('tracecontext', new SpanContext(TRACE, SPAN, 0xfd)).traceparent.slice(-2), '01');
});

t.test('trace-flags: sampled flag is read', async (t) => {
  t.equal(tc({ traceparent: `00-${TRACE}-${SPAN}-00` })?.sampled, false);
  t.equal(tc({ traceparent: `00-${TRACE}-${SPAN}-01` })?.sampled, true);
});

t.test('tracestate: MUST NOT be parsed when traceparent is invalid (the trace restarts without it)', async (t) => {
  t.equal(tc({ traceparent: `00-${TRACE}-${SPAN}-0x`, tracestate: 'rojo=1' }), null);
  t.equal(tc({ tracestate: 'rojo=1' }), null, 'tracestate alone');
});

t.test('tracestate: failure to parse it MUST NOT affect traceparent', async (t) => {
  const ctx = tc({ traceparent: PARENT, tracestate: 'BAD KEY=1' });
  t.equal(ctx?.traceId, TRACE);
  t.equal(ctx?.traceState, '');
});

t.test('tracestate: multiple headers MUST be combined in order', async (t) => {
  const ctx = tc({ traceparent: PARENT, tracestate: ['foo=1,bar=2', 'rojo=1,congo=2', 'baz=3'] });
  t.equal(ctx?.traceState, 'foo=1,bar=2,rojo=1,congo=2,baz=3');
});

t.test('tracestate: empty headers MUST be accepted', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: '' })?.traceId, TRACE);
  t.equal(tc({ traceparent: PARENT, tracestate: ['foo=1', ''] })?.traceState, 'foo=1');
  t.equal(tc({ traceparent: PARENT, tracestate: ['', 'foo=1'] })?.traceState, 'foo=1');
});

t.test('tracestate: empty and whitespace-only list members are allowed and dropped', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=1 \t , \t bar=2, \t baz=3' })?.traceState, 'foo=1,bar=2,baz=3');
  t.equal(tc({ traceparent: PARENT, tracestate: ',, ,foo=1,\t,' })?.traceState, 'foo=1');
});

t.test('tracestate: up to 32 list members are kept, in order', async (t) => {
  const members = Array.from({ length: 32 }, (_, i) => `bar${String(i + 1).padStart(2, '0')}=${i}`);
  t.equal(tc({ traceparent: PARENT, tracestate: members.join(',') })?.traceState, members.join(','));
});

t.test('tracestate: more than 32 list members is invalid and discarded', async (t) => {
  const members = Array.from({ length: 33 }, (_, i) => `bar${i}=${i}`);
  t.equal(tc({ traceparent: PARENT, tracestate: members.join(',') })?.traceState, '');
});

t.test('tracestate: a key MUST begin with a lower-case letter or a digit', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: '1abc=1' })?.traceState, '1abc=1');
  for (const key of ['@foo', '_foo', 'Foo', '-foo']) t.equal(tc({ traceparent: PARENT, tracestate: `${key}=1,bar=2` })?.traceState, '', key);
});

t.test('tracestate: keys allow a-z 0-9 _ - * / @ and nothing else', async (t) => {
  const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/@';
  t.equal(tc({ traceparent: PARENT, tracestate: `${key}=1` })?.traceState, `${key}=1`);
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo@bar@baz=1,foo@@bar=2,foo@=3' })?.traceState, 'foo@bar@baz=1,foo@@bar=2,foo@=3');
  for (const key of ['foo.bar', 'foo bar', 'FOO', 'föo']) t.equal(tc({ traceparent: PARENT, tracestate: `${key}=1` })?.traceState, '', key);
});

t.test('tracestate: keys are at most 256 characters', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: `${'z'.repeat(256)}=1` })?.traceState, `${'z'.repeat(256)}=1`);
  t.equal(tc({ traceparent: PARENT, tracestate: `${'z'.repeat(257)}=1` })?.traceState, '');
});

t.test('tracestate: values are 1-256 printable ASCII characters without , or = and not ending in a space', async (t) => {
  const all = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => c !== ',' && c !== '=').join('');
  t.equal(tc({ traceparent: PARENT, tracestate: `foo=${all}` })?.traceState, `foo=${all}`);
  t.equal(tc({ traceparent: PARENT, tracestate: `foo=${'v'.repeat(256)}` })?.traceState, `foo=${'v'.repeat(256)}`);
  for (const value of ['', 'v'.repeat(257), 'a=b', 'a\tb', 'é', 'a\u0000']) {
    t.equal(tc({ traceparent: PARENT, tracestate: `foo=${value}` })?.traceState, '', JSON.stringify(value));
  }
});

t.test('tracestate: leading spaces of a value MUST be preserved; trailing ones are whitespace', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=  v  ,bar=2' })?.traceState, 'foo=  v,bar=2');
});

t.test('tracestate: values are passed on unchanged', async (t) => {
  const state = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,x=a+b/c:d?e';
  const ctx = tc({ traceparent: PARENT, tracestate: state });
  t.equal(inject('tracecontext', ctx!).tracestate, state);
});

t.test('tracestate: a duplicated key keeps the header, the first occurrence of each key wins', async (t) => {
  // The W3C test suite (test_tracestate_duplicated_keys) expects the state passed on, as it came or
  // with duplicates dropped; losing every vendor's state over one repeated key is not allowed.
  const foo = tc({ traceparent: PARENT, tracestate: 'foo=1,foo=2' });
  t.equal(foo?.traceId, TRACE, 'the parent itself is kept');
  t.equal(foo?.traceState, 'foo=1');
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=1,foo=1' })?.traceState, 'foo=1', 'equal values');
  t.equal(tc({ traceparent: PARENT, tracestate: ['foo=1', 'foo=1'] })?.traceState, 'foo=1', 'the key in two headers');
  t.equal(tc({ traceparent: PARENT, tracestate: ['foo=1', 'bar=3', 'foo=2'] })?.traceState, 'foo=1,bar=3', 'order of the rest kept');
  t.equal(tc({ traceparent: PARENT, tracestate: 'a=1, b=2 ,a=3,c=4' })?.traceState, 'a=1,b=2,c=4', 'with whitespace around members');
  t.equal(tc({ traceparent: PARENT, tracestate: 'ab=1,ba=2,abc=3,ab@x=4' })?.traceState, 'ab=1,ba=2,abc=3,ab@x=4', 'similar keys are distinct');
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=1,foo=2,bar' })?.traceState, '', 'an invalid member still discards the whole header');
  const max = Array.from({ length: 32 }, (_, i) => `k${i}=1`);
  t.equal(tc({ traceparent: PARENT, tracestate: [...max, 'k0=2'].join(',') })?.traceState, '', 'duplicates count toward the 32-member limit');
  t.equal(inject('tracecontext', foo!).tracestate, 'foo=1', 'and it is passed on');
});

t.test('tracestate: an invalid member discards the whole header', async (t) => {
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=1,=2,bar=3' })?.traceState, '');
  t.equal(tc({ traceparent: PARENT, tracestate: 'foo=1,bar' })?.traceState, '');
});

t.test('tracestate: header name is case-insensitive', async (t) => {
  t.equal(tc({ traceparent: PARENT, TraceState: 'foo=1' })?.traceState, 'foo=1');
});

t.test('tracestate: at least 512 characters are propagated', async (t) => {
  const entries = Array.from({ length: 16 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(27)}`);
  const state = entries.join(',');
  t.equal(state.length, 511);
  t.equal(inject('tracecontext', new SpanContext(TRACE, SPAN, 1, state)).tracestate, state);
});

t.test('tracestate: truncation MUST remove whole entries, entries over 128 characters first', async (t) => {
  const big = `big=${'b'.repeat(200)}`;
  const small = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(27)}`);
  const state = [small[0], big, ...small.slice(1)].join(',');
  const out = inject('tracecontext', new SpanContext(TRACE, SPAN, 1, state)).tracestate;
  t.equal(out, small.join(','), 'the large entry went, every small one stayed');
});

t.test('tracestate: truncation then removes entries from the end', async (t) => {
  const entries = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(36)}`);
  const out = truncateTraceState(entries.join(','), 512);
  t.ok(out.length <= 512);
  t.equal(out, entries.slice(0, 12).join(','), 'a prefix of the entries, so order is kept');
});

t.test('traceparent is written with lower-case header names', async (t) => {
  const out = inject('tracecontext', new SpanContext(TRACE, SPAN, 1, 'a=1'));
  t.same(Object.keys(out).sort(), ['traceparent', 'tracestate']);
});

t.test('invalid contexts are not written', async (t) => {
  t.same(inject('tracecontext', new SpanContext('0'.repeat(32), SPAN)), {});
  t.same(inject('tracecontext', new SpanContext(TRACE, 'xyz')), {});
});
