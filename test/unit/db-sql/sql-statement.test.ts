import t from 'tap';
import {
  capStatement, describeSql, MAX_STATEMENT_LENGTH, sanitizeSql, sqlOperationName, TRUNCATED_MARK,
} from '../../../instrumentations/sql/sql-statement.js';

const pg = (sql: string): string => sanitizeSql(sql, 'postgres');
const my = (sql: string): string => sanitizeSql(sql, 'mysql');

t.test('string literals become ?, in both dialects', async (t) => {
  t.equal(pg("SELECT * FROM users WHERE name = 'alice' AND role = 'admin'"), 'SELECT * FROM users WHERE name = ? AND role = ?');
  t.equal(pg("SELECT 'it''s' AS x"), 'SELECT ? AS x', "'' inside a string does not end it");
  t.equal(pg("SELECT E'a\\'b', 'c'"), 'SELECT ?, ?', "E'' strings honour backslash escapes");
  t.equal(pg("SELECT 'a\\', 'b'"), 'SELECT ?, ?', 'a standard PostgreSQL string ends at the quote after a backslash');
  t.equal(my("SELECT 'a\\', b' FROM t"), 'SELECT ? FROM t', 'MySQL strings honour backslash escapes');
  t.equal(my('SELECT "double" FROM t'), 'SELECT ? FROM t', 'double quotes make a string in MySQL');
  t.equal(pg('SELECT "Col" FROM "My Table"'), 'SELECT "Col" FROM "My Table"', 'double quotes make an identifier in PostgreSQL');
  t.equal(my('SELECT `col` FROM `t`'), 'SELECT `col` FROM `t`', 'backtick identifiers are kept');
  t.equal(pg("SELECT X'1F', B'0101', N'nat', U&'d\\0061t'"), 'SELECT ?, ?, ?, ?', 'prefixed strings');
  t.equal(my("SELECT _utf8mb4'x', x'ab'"), 'SELECT ?, ?', 'MySQL charset introducers');
});

t.test('dollar-quoted bodies become ?, $1 placeholders stay', async (t) => {
  t.equal(pg('SELECT $$secret body$$, $1, $22'), 'SELECT ?, $1, $22');
  t.equal(pg('DO $fn$ BEGIN RAISE NOTICE $$x$$; END $fn$'), 'DO ?');
  t.equal(pg('SELECT a$b FROM t'), 'SELECT a$b FROM t', 'a $ inside an identifier is part of it');
  t.equal(pg('SELECT $tag$ never closed'), 'SELECT ?', 'an unterminated dollar quote hides the rest');
});

t.test('numbers become ?, including negatives, decimals, exponents and hex', async (t) => {
  t.equal(pg('SELECT 1'), 'SELECT ?');
  t.equal(pg('SELECT * FROM t WHERE a = -12.5 AND b > .5 AND c < 1e-5 AND d = 0xFF LIMIT 10'), 'SELECT * FROM t WHERE a = ? AND b > ? AND c < ? AND d = ? LIMIT ?');
  t.equal(pg('SELECT a-1, t1.c2 FROM t1'), 'SELECT a-?, t1.c2 FROM t1', 'subtraction keeps its operator; digits in names stay');
  t.equal(pg('INSERT INTO t VALUES (-1, 2)'), 'INSERT INTO t VALUES (?, ?)');
});

t.test('comments are removed', async (t) => {
  t.equal(pg("SELECT 1 -- password 'x'\nFROM t"), 'SELECT ?  \nFROM t');
  t.equal(pg('SELECT /* token=abc */ a FROM t'), 'SELECT   a FROM t');
  t.equal(pg('SELECT /* outer /* nested */ still */ a'), 'SELECT   a', 'PostgreSQL block comments nest');
  t.equal(my('SELECT a # secret\nFROM t'), 'SELECT a  \nFROM t', '# starts a comment in MySQL');
  t.equal(pg('SELECT a # b FROM t'), 'SELECT a # b FROM t', '# is an operator in PostgreSQL');
  t.equal(pg('SELECT a /* never closed secret'), 'SELECT a', 'an unterminated comment hides the rest');
});

t.test('placeholders are kept, IN lists collapse', async (t) => {
  t.equal(my('SELECT * FROM t WHERE id = ? AND n = :name'), 'SELECT * FROM t WHERE id = ? AND n = :name');
  t.equal(pg("SELECT * FROM t WHERE id IN (1, 2, 3) AND s IN ('a','b')"), 'SELECT * FROM t WHERE id IN (?) AND s IN (?)');
  t.equal(my('SELECT * FROM t WHERE id IN (?, ?, ?)'), 'SELECT * FROM t WHERE id IN (?)');
  t.equal(pg('SELECT * FROM t WHERE id IN ($1, $2)'), 'SELECT * FROM t WHERE id IN ($1, $2)');
  t.equal(pg('INSERT INTO t (a, b) VALUES (1, 2)'), 'INSERT INTO t (a, b) VALUES (?, ?)', 'only IN lists collapse');
});

t.test('hostile input: unterminated quotes hide the rest, huge input is capped, never throws', async (t) => {
  t.equal(pg("SELECT 'never closed password"), 'SELECT ?');
  t.equal(my('SELECT "never closed \\" password'), 'SELECT ?');
  t.equal(pg('SELECT "unterminated identifier'), 'SELECT "unterminated identifier', 'identifiers are not secrets');
  t.equal(pg(''), '');
  t.equal(sanitizeSql(undefined as unknown as string, 'postgres'), '');

  const huge = 'SELECT ' + 'a, '.repeat(1_000_000) + "'secret'";
  const out = pg(huge);
  t.ok(out.endsWith(TRUNCATED_MARK), 'marked as cut');
  t.ok(out.length <= MAX_STATEMENT_LENGTH + TRUNCATED_MARK.length, 'capped');
  t.notMatch(out, /secret/);

  const bigLiteral = `SELECT '${'x'.repeat(3_000_000)}' FROM t`;
  t.equal(pg(bigLiteral), 'SELECT ? FROM t', 'one huge literal is replaced whole');
  t.notMatch(pg(`SELECT ${"'a'' ".repeat(100_000)}secret`), /secret/, 'a long run of doubled quotes ends in an unterminated literal');
  const quotes = "'".repeat(200_001);
  t.doesNotThrow(() => my(quotes));
  t.doesNotThrow(() => pg('$'.repeat(100_000)));
  t.doesNotThrow(() => pg('/*'.repeat(100_000)));
  t.equal(pg('SELECT \uD83D\uDE00 FROM t'), 'SELECT \uD83D\uDE00 FROM t', 'non-ASCII is kept');
});

t.test('a secret in a literal never survives sanitizing', async (t) => {
  const secret = 'S3cr3t-Pa55';
  const statements = [
    `UPDATE users SET password = '${secret}' WHERE id = 1`,
    `SELECT * FROM t WHERE a = E'x\\'${secret}'`,
    `SELECT $$${secret}$$`,
    `SELECT $q$ '' ${secret} $q$`,
    `INSERT INTO t VALUES ('a', '${secret}')`,
    `SELECT 1 /* ${secret} */`,
    `SELECT 1 -- ${secret}`,
    `SELECT 'it''s ${secret}'`,
    `SELECT '${secret}`,
  ];
  for (const sql of statements) t.notMatch(pg(sql), secret, sql);
  const mysqlStatements = [
    `SELECT * FROM t WHERE a = "${secret}"`,
    `SELECT 'a\\' ${secret}'`,
    `SELECT 1 # ${secret}`,
    `SELECT "x\\" ${secret}"`,
  ];
  for (const sql of mysqlStatements) t.notMatch(my(sql), secret, sql);
});

t.test('operation names: verb and table when cheaply known', async (t) => {
  const op = (sql: string): string => sqlOperationName(pg(sql));
  t.equal(op('SELECT * FROM users WHERE id = 1'), 'SELECT users');
  t.equal(op('select id from public.orders o join users u on true'), 'SELECT public.orders');
  t.equal(op('SELECT 1'), 'SELECT');
  t.equal(op('SELECT a FROM (SELECT 1) s'), 'SELECT');
  t.equal(op('SELECT (SELECT max(x) FROM inner_t) FROM outer_t'), 'SELECT outer_t', 'the top-level FROM, not a subquery');
  t.equal(op('INSERT INTO orders (a) VALUES (1)'), 'INSERT orders');
  t.equal(op('UPDATE ONLY "Accounts" SET a = 1'), 'UPDATE Accounts');
  t.equal(op('DELETE FROM sessions WHERE t < now()'), 'DELETE sessions');
  t.equal(op('BEGIN'), 'BEGIN');
  t.equal(op('commit'), 'COMMIT');
  t.equal(op('WITH x AS (SELECT 1) SELECT * FROM x'), 'WITH');
  t.equal(sqlOperationName(my('INSERT INTO `db`.`t` VALUES (?)')), 'INSERT db.t');
  t.equal(op(''), '');
});

t.test('describeSql: modes, and the same answer from its cache', async (t) => {
  const sql = "SELECT * FROM users WHERE token = 'abc'";
  t.same(describeSql(sql, 'postgres', 'sanitized'), { operation: 'SELECT users', statement: 'SELECT * FROM users WHERE token = ?' });
  t.same(describeSql(sql, 'postgres', 'sanitized'), { operation: 'SELECT users', statement: 'SELECT * FROM users WHERE token = ?' }, 'cached');
  t.same(describeSql(sql, 'postgres', 'full'), { operation: 'SELECT users', statement: sql });
  t.same(describeSql(sql, 'postgres', 'off'), { operation: 'SELECT users', statement: undefined });
  t.same(describeSql(42, 'mysql', 'sanitized'), { operation: 'QUERY', statement: undefined }, 'not a string: nothing recorded');
  const long = 'SELECT ' + 'x'.repeat(5000);
  t.equal(capStatement(long).length, MAX_STATEMENT_LENGTH + TRUNCATED_MARK.length, 'full statements are capped too');
  for (let i = 0; i < 1000; i++) describeSql(`SELECT ${i} FROM t${i}`, 'mysql', 'sanitized');
  t.same(describeSql('SELECT 5 FROM t5', 'mysql', 'sanitized'), { operation: 'SELECT t5', statement: 'SELECT ? FROM t5' }, 'still right after the cache starts over');
});
