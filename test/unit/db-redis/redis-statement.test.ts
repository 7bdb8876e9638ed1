import t from 'tap';
import { redisOperationName, redisStatement } from '../../../instrumentations/redis/statement.js';

t.test('sanitized: the command and its key, never a value', async (t) => {
  t.equal(redisStatement('sanitized', 'SET', ['user:1', 's3cret-value', 'EX', 10]), 'SET user:1');
  t.equal(redisStatement('sanitized', 'GET', ['user:1']), 'GET user:1');
  t.equal(redisStatement('sanitized', 'HSET', ['h', 'field', 'value']), 'HSET h');
  t.equal(redisStatement('sanitized', 'JSON.SET', ['doc', '$', '{"card":"4111"}']), 'JSON.SET doc', 'module commands have their key first too');
});

t.test('sanitized: commands without a key first show their name alone', async (t) => {
  t.equal(redisStatement('sanitized', 'AUTH', ['default', 'pa55']), 'AUTH');
  t.equal(redisStatement('sanitized', 'HELLO', ['3', 'AUTH', 'u', 'pa55']), 'HELLO');
  t.equal(redisStatement('sanitized', 'MIGRATE', ['h', '1', 'k', '0', '5', 'AUTH', 'pa55']), 'MIGRATE');
  t.equal(redisStatement('sanitized', 'CLIENT', ['SETNAME', 'worker']), 'CLIENT');
  t.equal(redisStatement('sanitized', 'EVAL', ['return 1', '0']), 'EVAL', 'a script is not a key');
  t.equal(redisStatement('sanitized', 'PING', []), 'PING');
  t.equal(redisStatement('sanitized', 'GET', []), 'GET', 'no argument at all');
});

t.test('node-redis arrays keep the name at index 0: `from` skips it without a copy', async (t) => {
  const args = ['SET', 'k', 'value'];
  t.equal(redisStatement('sanitized', 'SET', args, 1), 'SET k');
  t.equal(redisStatement('full', 'SET', args, 1), 'SET k value');
});

t.test('keys are capped, binary keys are described, not decoded', async (t) => {
  const long = 'k'.repeat(500);
  const statement = redisStatement('sanitized', 'GET', [long])!;
  t.ok(statement.length < 140, `capped (${statement.length})`);
  t.ok(statement.endsWith('…'));
  t.equal(redisStatement('sanitized', 'GET', [Buffer.from('abc')]), 'GET <3 bytes>');
});

t.test('full: every argument except credentials', async (t) => {
  t.equal(redisStatement('full', 'SET', ['k', 'v', 'EX', 10]), 'SET k v EX 10');
  t.equal(redisStatement('full', 'AUTH', ['pa55']), 'AUTH ?');
  t.equal(redisStatement('full', 'AUTH', ['user', 'pa55']), 'AUTH ?');
  t.equal(redisStatement('full', 'HELLO', ['3', 'AUTH', 'user', 'pa55', 'SETNAME', 'x']), 'HELLO 3 AUTH ? ? SETNAME x');
  t.equal(redisStatement('full', 'MIGRATE', ['h', '1', 'k', '0', '5', 'AUTH', 'pa55']), 'MIGRATE h 1 k 0 5 AUTH ?');
  t.equal(redisStatement('full', 'MIGRATE', ['h', '1', 'k', '0', '5', 'auth2', 'u', 'pa55']), 'MIGRATE h 1 k 0 5 auth2 ? ?');
  t.equal(redisStatement('full', 'CONFIG', ['SET', 'requirepass', 'pa55']), 'CONFIG SET requirepass ?');
  t.equal(redisStatement('full', 'CONFIG', ['GET', 'maxmemory']), 'CONFIG GET maxmemory');
  const huge = redisStatement('full', 'SET', ['k', 'v'.repeat(5000)])!;
  t.ok(huge.length <= 1025, 'a full statement is capped too');
});

t.test('off: no statement', async (t) => {
  t.equal(redisStatement('off', 'SET', ['k', 'v']), undefined);
});

t.test('operation names are upper case, whatever the client sends', async (t) => {
  t.equal(redisOperationName('get'), 'GET');
  t.equal(redisOperationName('GET'), 'GET');
  t.equal(redisOperationName('json.set'), 'JSON.SET');
  t.equal(redisOperationName('get'), redisOperationName('get'), 'stable across calls');
});
