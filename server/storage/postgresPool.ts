/**
 * The connection side of PostgresStore: a `pg` pool set up for Concord, transactions on it, and
 * closing it for real. Nothing here knows the schema.
 */
import pg, { type Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';

/** bigint (int8) columns as numbers: sequence numbers, byte counts and ms timestamps stay far below 2^53. */
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? parseSafeInteger : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Transactions that lost a deadlock (40P01) or a serialisation check (40001) are run again. */
const RETRIED_SQLSTATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

export function createPool(databaseUrl: string, maxConnections: number, log: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: maxConnections,
    // A database that does not answer fails a call (and /healthz) instead of hanging it.
    connectionTimeoutMillis: 10_000,
    fallback_application_name: 'concord',
    types: TYPES,
  });
  // Without a listener, an idle connection the server drops (a restart) would crash the process.
  pool.on('error', (err) => log.warn({ err }, 'PostgreSQL: an idle connection failed; the pool opens a new one when needed'));
  return pool;
}

/**
 * Runs `work` in one READ COMMITTED transaction on one pooled connection. A lost deadlock or
 * serialisation check is retried from the start, so `work` may run more than once.
 */
export async function inTransaction<T>(pool: Pool, log: Logger, work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = true; // a connection in an unknown state must not go back to the pool
        log.warn({ err: rollbackErr }, 'PostgreSQL: rollback failed; dropping the connection');
      }
      if (attempt < MAX_ATTEMPTS && RETRIED_SQLSTATES.has((err as { code?: string }).code ?? '')) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/**
 * Ends the pool and waits until its connections have closed: pool.end() resolves before they
 * have, and a session left on the server (until it notices) would, for one, be killed by a
 * DROP DATABASE right after, or count against max_connections.
 */
export async function endPool(pool: Pool): Promise<void> {
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => --open === 0 && resolve());
  });
  await pool.end();
  await closed;
}

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`PostgreSQL returned ${text}, beyond what a JavaScript number holds exactly`);
  return value;
}
