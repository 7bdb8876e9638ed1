// What the graphql instrumentation writes about a document and its errors, checked against documents
// parsed by the real graphql-js (15 and 16) and the messages its validation and execution produce.
import t from 'tap';
import { redactedDocument, selectOperation, sniffOperation } from '../../../instrumentations/graphql/document.js';
import { redactMessage, requestValues } from '../../../instrumentations/graphql/errors.js';
import { collapsedPath } from '../../../instrumentations/graphql/resolvers.js';
import { readGraphqlOptions } from '../../../instrumentations/graphql/options.js';

const majors = { 15: require('graphql15') as typeof import('graphql'), 16: require('graphql') as typeof import('graphql') };

const SECRET = 'sekret-value';
const source = `# a comment with ${SECRET}
query Find($a: Int = 5, $b: [String] = ["${SECRET}"]) {
  user(email: "${SECRET}", n: 12, f: 1.5, ok: true, color: RED, none: null, list: [1, "${SECRET}"], input: { k: "${SECRET}" }) @include(if: false) {
    bio(text: """${SECRET}
    more""") # trailing ${SECRET}
    name
  }
}`;

for (const [major, graphql] of Object.entries(majors)) {
  t.test(`graphql ${major}: documents`, async (t) => {
    const doc = graphql.parse(source);
    t.equal(
      redactedDocument(doc),
      'query Find($a: Int = ?, $b: [String] = [?]) { user(email: ?, n: ?, f: ?, ok: ?, color: ?, none: ?, list: [?, ?], input: { k: ? }) @include(if: ?) { bio(text: ?) name } }',
      'every literal is ?, comments dropped, white space folded',
    );
    t.equal(redactedDocument(doc), redactedDocument(graphql.parse(source)), 'the same text again (from the cache) for a new parse of the same source');
    t.equal(redactedDocument(graphql.parse('{ a }', { noLocation: true })), null, 'no text without locations');
    t.same(selectOperation(graphql.parse('query A { a } mutation B { b }'), 'B'), { type: 'mutation', name: 'B' });
    t.equal(selectOperation(graphql.parse('query A { a } query B { b }'), undefined), null, 'ambiguous: none');
    t.same(selectOperation(graphql.parse('{ a }'), null), { type: 'query', name: '' }, 'shorthand: an anonymous query');
  });

  t.test(`graphql ${major}: error messages keep no value`, async (t) => {
    const schema = graphql.buildSchema('type Query { n(x: Int): Int e(c: Color): Int s(v: String!): String } enum Color { RED }');
    const messages: string[] = [];
    const bad = [`{ n(x: "${SECRET}") }`, `{ n(x: 1.5) }`, `{ e(c: ${SECRET.replace('-', '_')}) }`, `{ s(v: 12345678) }`];
    for (const q of bad) for (const e of graphql.validate(schema, graphql.parse(q))) messages.push(e.message);
    const exec = await graphql.execute({ schema, document: graphql.parse('query Q($x: Int) { n(x: $x) }'), variableValues: { x: SECRET } });
    for (const e of exec.errors ?? []) messages.push(e.message);
    for (const q of [`{ n(x: "${SECRET}" "${SECRET}") }`, `{ n(x: ${SECRET}`, `query { a(b: "${SECRET}"`]) {
      try {
        graphql.parse(q);
      } catch (e) {
        messages.push((e as Error).message);
      }
    }
    t.ok(messages.length >= 7, `graphql produced ${messages.length} messages`);
    const literals = ['1.5', '12345678', SECRET, SECRET.replace('-', '_')];
    for (const message of messages) {
      const values = requestValues(null, { x: SECRET });
      const out = redactMessage(message, values);
      for (const v of literals) t.notOk(out.includes(v), `${JSON.stringify(message)} → ${JSON.stringify(out)} holds no ${v}`);
    }
    t.equal(redactMessage('Syntax Error: Expected Name, found "{".', new Set()), 'Syntax Error: Expected Name, found "{".', 'punctuation stays');
    t.equal(redactMessage('Cannot query field "nope" on type "Query".', new Set()), 'Cannot query field "nope" on type "Query".', 'names stay');
  });
}

t.test('syntax errors are reported under the operation the client meant', async (t) => {
  t.same(sniffOperation('  # c\n mutation Pay($a: Int) { x'), { type: 'mutation', name: 'Pay' });
  t.same(sniffOperation('{ user(id: '), { type: 'query', name: '' });
  t.same(sniffOperation({ body: 'subscription { a' }), { type: 'subscription', name: '' });
  t.equal(sniffOperation('fragment X on Y { a }'), null);
});

t.test('list positions collapse, the depth limit counts fields only', async (t) => {
  const path = (keys: (string | number)[]) => keys.reduce<{ prev?: unknown; key: unknown } | undefined>((prev, key) => ({ prev, key }), undefined) as never;
  t.equal(collapsedPath(path(['users', 3, 'posts', 0, 'title']), 5), 'users.*.posts.*.title');
  t.equal(collapsedPath(path(['users', 3, 'posts']), 2), 'users.*.posts');
  t.equal(collapsedPath(path(['users', 3, 'posts']), 1), null);
});

t.test('options: a wrong value warns once, naming the option and what it accepts, and the default is used', async (t) => {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn() {}, error() {}, warnOnce: (_key: string, msg: string) => warnings.push(msg) } as never;
  t.same(readGraphqlOptions({}, log), { resolverSpans: false, resolverDepth: 5, document: 'redacted', variables: false, renameServerSpan: true }, 'defaults');
  t.same(
    readGraphqlOptions({ resolverSpans: true, resolverDepth: 3, document: 'off', variables: true, renameServerSpan: false }, log),
    { resolverSpans: true, resolverDepth: 3, document: 'off', variables: true, renameServerSpan: false },
  );
  t.same(warnings, [], 'no warning for valid values');
  t.same(readGraphqlOptions({ resolverSpans: 'yes', resolverDepth: 0, document: 'raw' }, log), { resolverSpans: false, resolverDepth: 5, document: 'redacted', variables: false, renameServerSpan: true });
  t.equal(warnings.length, 3);
  t.match(warnings[0], /instrumentations\.graphql\.resolverDepth = 0 .*accepted: a whole number from 1 to 100/);
  t.match(warnings[1], /instrumentations\.graphql\.document = "raw" .*accepted: redacted, full, off/);
  t.match(warnings[2], /instrumentations\.graphql\.resolverSpans = "yes" .*accepted: true or false/);
});
