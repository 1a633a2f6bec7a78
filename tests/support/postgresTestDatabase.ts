/**
 * Throwaway PostgreSQL databases for tests (issue #13): each is created empty on the local server
 * and dropped afterwards, so test runs (and parallel test files) never share data.
 *
 * The server is TEST_POSTGRES_URL, by default postgres://postgres@127.0.0.1:5432/postgres with
 * trust authentication, as .ci/run starts it. If it is not reachable the tests fail, saying so:
 * a PostgreSQL adapter that is silently skipped would be a contract nobody checks.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** DATABASE_URL of the new database. */
  url: string;
  /** Drops it, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates `concord_test_<random>` and returns its URL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `concord_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  // Tests need no durability across a crash of the PostgreSQL server itself; not waiting for the
  // WAL flush at every commit makes them several times faster. Isolation and ordering are unchanged.
  await onServer(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { name, url: url.href, drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Runs one statement on the server's maintenance database (CREATE/DROP DATABASE cannot run in a transaction). */
async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_POSTGRES_URL} (${(err as Error).message}). These tests need it: ` +
        '.ci/run starts it (pg_ctlcluster <version> main start); or point TEST_POSTGRES_URL at a server with trust authentication.',
      { cause: err },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
