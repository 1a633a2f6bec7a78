/**
 * PostgreSQL schema, as versioned migrations (issue #13). Each instance runs `migrate` when it
 * starts: every migration not yet in `schema_migrations` is applied in its own transaction and
 * recorded there. Several instances may start at once on one database: each transaction first
 * takes one advisory lock (pg_advisory_xact_lock, scoped to this database and released at commit),
 * so one instance migrates while the others wait and then find the work done.
 *
 * A migration, once released, is never edited: a change to the schema is a new migration with the
 * next version. Instances of an older version keep running beside a newer schema only while the
 * newer migrations are additive (new tables, nullable or defaulted columns).
 */
import type { Pool, PoolClient } from 'pg';

export interface Migration {
  version: number;
  /** What it does, for the record in schema_migrations. */
  name: string;
  sql: string;
}

/**
 * Text columns holding document ids and peer names use COLLATE "C" (byte order): listBacklog pages
 * by `doc_id > after`, which must agree with the order callers and the other adapters use, and a
 * database's default collation (e.g. en_US) sorts "-", "_" and case differently.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'documents, update log, snapshots, region backlog',
    sql: `
      CREATE TABLE documents (
        id            text COLLATE "C" PRIMARY KEY,
        created_at    timestamptz NOT NULL DEFAULT now(),
        edit_epoch    bigint NOT NULL DEFAULT 0,
        edit_verifier text,
        view_epoch    bigint NOT NULL DEFAULT 0,
        view_verifier text,
        deleted_at    timestamptz,
        -- The last sequence number handed out for this document; see PostgresStore.append.
        last_seq      bigint NOT NULL DEFAULT 0
      );
      CREATE TABLE snapshots (
        doc_id      text COLLATE "C" PRIMARY KEY REFERENCES documents (id),
        through_seq bigint NOT NULL,
        data        bytea NOT NULL
      );
      CREATE TABLE updates (
        doc_id text COLLATE "C" NOT NULL REFERENCES documents (id),
        seq    bigint NOT NULL,
        data   bytea NOT NULL,
        PRIMARY KEY (doc_id, seq)
      );
      -- One row: this database's random id, made once with the schema and kept forever.
      CREATE TABLE storage_meta (
        id         integer PRIMARY KEY CHECK (id = 1),
        storage_id text NOT NULL
      );
      INSERT INTO storage_meta (id, storage_id) VALUES (1, gen_random_uuid()::text);
      -- Backlog marks are only compared for equality, so a sequence (never reused, no row lock
      -- shared by every write) serves where SQLite counts in storage_meta.
      CREATE SEQUENCE backlog_marks;
      CREATE TABLE backlog (
        peer   text COLLATE "C" NOT NULL,
        doc_id text COLLATE "C" NOT NULL,
        mark   bigint NOT NULL,
        bytes  bigint NOT NULL,
        since  bigint NOT NULL,
        PRIMARY KEY (peer, doc_id)
      );
      CREATE TABLE peer_regions (
        region     text COLLATE "C" PRIMARY KEY,
        storage_id text NOT NULL
      );
    `,
  },
];

/** Any constant works; this one is "concord" in ASCII, so it is recognisable in pg_locks. */
const MIGRATION_LOCK_KEY = '27977174233371236';

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * Applies every migration the database lacks, in version order, each once. Returns the versions
 * this call applied (empty when another instance, or an earlier start, already had).
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  checkOrder(migrations);
  const applied: number[] = [];
  const client = await pool.connect();
  let broken = false;
  try {
    for (const migration of migrations) {
      if (await applyOnce(client, migration)) applied.push(migration.version);
    }
    return applied;
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** One migration in one transaction, under the lock: applied unless it is recorded already. */
async function applyOnce(client: PoolClient, migration: Migration): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    // Inside the lock: two instances creating it at once would collide in the catalog.
    await client.query(CREATE_MIGRATIONS_TABLE);
    const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
    if (done.rowCount === 0) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    await client.query('COMMIT');
    return done.rowCount === 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined); // the caller discards this connection anyway
    throw new Error(`PostgreSQL migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`, { cause: err });
  }
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, i) => {
    if (!Number.isSafeInteger(migration.version) || migration.version <= (migrations[i - 1]?.version ?? 0)) {
      throw new RangeError(`migration versions must be positive and increasing; ${migration.version} follows ${migrations[i - 1]?.version}`);
    }
  });
}
