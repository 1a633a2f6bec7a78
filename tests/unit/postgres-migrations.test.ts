/**
 * PostgreSQL schema migrations (issue #13): versioned, each applied once in a transaction, safe
 * when several instances start at once. Runs against the local server (tests/support/
 * postgresTestDatabase.ts), a new database per test; fails, never skips, if it is not reachable.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newDocId } from '../../lib/ids';
import { PostgresStore } from '../../server/storage/PostgresStore';
import { migrate, MIGRATIONS, type Migration } from '../../server/storage/postgresMigrations';
import { createTestDatabase, type TestDatabase } from '../support/postgresTestDatabase';

const versions = MIGRATIONS.map((m) => m.version);

describe('PostgreSQL migrations', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const stores: PostgresStore[] = [];
  const openStore = () => {
    const store = new PostgresStore(database.url, { maxConnections: 2 });
    stores.push(store);
    return store;
  };
  const recorded = async () => (await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);

  beforeEach(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    // Both are unset when the server was unreachable (beforeEach failed, and said why).
    await pool?.end();
    await database?.drop();
  });

  it('several stores starting at once on a new database all succeed, and each migration is applied once', async () => {
    const starting = [openStore(), openStore(), openStore(), openStore()];
    const applied = await Promise.all(starting.map((store) => store.migrated));
    // Exactly one store applied each migration; the others waited on the lock and found it done.
    expect(applied.flat().sort((a, b) => a - b)).toEqual(versions);
    expect(await recorded()).toEqual(versions);
    const ids = await Promise.all(starting.map((store) => store.storageId()));
    expect(new Set(ids).size).toBe(1);
  });

  it('a later start applies only the new migration, once, and keeps the data', async () => {
    const first = openStore();
    const docId = newDocId();
    await first.append(docId, [new Uint8Array([0, 0])]);
    const storageId = await first.storageId();
    const later: Migration = { version: versions.at(-1)! + 1, name: 'test: a later migration', sql: 'CREATE TABLE later_probe (x integer)' };
    const results = await Promise.all([migrate(pool, [...MIGRATIONS, later]), migrate(pool, [...MIGRATIONS, later])]);
    expect(results.flat()).toEqual([later.version]);
    expect(await recorded()).toEqual([...versions, later.version]);
    const again = openStore();
    expect(await again.migrated).toEqual([]);
    expect(await again.storageId()).toBe(storageId);
    expect((await again.load(docId)).updates).toHaveLength(1);
  });

  it('a failing migration is rolled back whole, not recorded, and names itself', async () => {
    await openStore().migrated;
    const broken: Migration = { version: versions.at(-1)! + 1, name: 'test: broken', sql: 'CREATE TABLE half_done (x integer); SELECT no_such_function()' };
    await expect(migrate(pool, [...MIGRATIONS, broken])).rejects.toThrow(`PostgreSQL migration ${broken.version} (test: broken) failed`);
    expect(await recorded()).toEqual(versions);
    expect((await pool.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
  });

  it('refuses a migration list out of order', async () => {
    const [first] = MIGRATIONS;
    await expect(migrate(pool, [first!, first!])).rejects.toThrow(RangeError);
  });

  it('a store on an unreachable database fails its calls with the cause', async () => {
    const unreachable = new URL(database.url);
    unreachable.port = '1';
    await expect(PostgresStore.open(unreachable.href)).rejects.toThrow(/ECONNREFUSED/);
  });
});
