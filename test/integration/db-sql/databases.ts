import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql2 from 'mysql2/promise';
import { mysql, postgres } from '../../helpers/db-servers.js';

/** A database of its own for one test suite, with the tables the fixture apps query. */
export interface TestDatabase {
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates a database with a random name on the test server (from the test process, which runs no
 * agent): `users` (two rows) and an empty `orders`. `drop()` removes it, also when connections are open.
 */
export async function createDatabase(driver: 'pg' | 'mysql2'): Promise<TestDatabase> {
  const name = `tracing_sql_${randomBytes(5).toString('hex')}`;
  return driver === 'pg' ? createPostgres(name) : createMysql(name);
}

async function createPostgres(name: string): Promise<TestDatabase> {
  const admin = new pg.Client({ ...postgres });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ ...postgres, database: name });
  await client.connect();
  try {
    await client.query(`CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
      INSERT INTO users (name) VALUES ('ann'), ('bob');
      CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int)`);
  } finally {
    await client.end();
  }
  return {
    name,
    drop: async () => {
      const c = new pg.Client({ ...postgres });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function createMysql(name: string): Promise<TestDatabase> {
  const settings = { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password, multipleStatements: true };
  const conn = await mysql2.createConnection(settings);
  try {
    await conn.query(`CREATE DATABASE ${name}; USE ${name};
      CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL);
      INSERT INTO users (name) VALUES ('ann'), ('bob');
      CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, item varchar(50), qty int)`);
  } finally {
    await conn.end();
  }
  return {
    name,
    drop: async () => {
      const c = await mysql2.createConnection(settings);
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}
