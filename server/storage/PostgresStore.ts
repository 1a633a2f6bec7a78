/**
 * PostgreSQL adapter (`pg`), chosen by DATABASE_URL (issue #13). Several Concord instances may
 * share one database: every method is one statement or one READ COMMITTED transaction, and every
 * write that must see the current state of a document first locks that document's row
 * (`SELECT … FOR UPDATE`, or the `UPDATE` that bumps its sequence), so writes to one document run
 * one after another across every instance while writes to different documents do not wait.
 *
 * Sequence numbers are per document, handed out under that row lock (`documents.last_seq`), so
 * per document they commit in the order they are handed out. A global sequence would not: with
 * one, a transaction holding seq 10 can commit after another's seq 11, and a compaction that
 * loaded through 11 would then delete 10 without having seen it. With per-document numbers,
 * whoever loads a document through seq N has seen every entry up to N, which is what makes
 * `compact(id, snapshotOfWhatWasLoaded, loaded.lastSeq)` safe with several writers (the contract
 * test races exactly that). The schema is in postgresMigrations.ts.
 */
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { AccessState } from '../../lib/auth/capabilities';
import { createLogger } from '../log';
import {
  checkAccessState,
  checkBacklogLimit,
  DocumentDeletedError,
  type BacklogEntry,
  type BacklogStats,
  type DirtyOptions,
  type DocumentInfo,
  type DocumentStore,
  type StoredDocument,
} from './DocumentStore';
import { bytesOf, documentInfoOf, type DocumentRowOf } from './documentRows';
import { migrate } from './postgresMigrations';
import { createPool, endPool, inTransaction } from './postgresPool';

interface DocumentRow extends DocumentRowOf<Date> {
  last_seq: number;
}

export interface PostgresStoreOptions {
  /** For connection errors that happen between queries (an idle connection dropped). */
  log?: Logger;
  /** Connections this instance keeps open at most (pg's pool `max`). */
  maxConnections?: number;
}

/** Rows per INSERT when appending: far below PostgreSQL's 65,535 parameters per statement. */
const UPDATES_PER_INSERT = 1000;

export class PostgresStore implements DocumentStore {
  readonly kind = 'postgres';
  private readonly pool: Pool;
  private readonly log: Logger;
  /**
   * The schema migration started by the constructor, resolving to the versions this instance
   * applied. Every method waits for it, so a store is usable as soon as it is constructed; a
   * failed migration (or an unreachable database) fails every call with its error.
   */
  readonly migrated: Promise<number[]>;
  private closing: Promise<void> | null = null;

  constructor(databaseUrl: string, options: PostgresStoreOptions = {}) {
    this.log = options.log ?? createLogger('warn', 'postgres');
    this.pool = createPool(databaseUrl, options.maxConnections ?? 10, this.log);
    this.migrated = migrate(this.pool);
    // Callers see the error through `migrated` or their first call; this keeps it from being unhandled first.
    this.migrated.catch(() => undefined);
  }

  /** Opens a store and waits for its schema: fails here if the database is unreachable. */
  static async open(databaseUrl: string, options?: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(databaseUrl, options);
    try {
      await store.migrated;
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async createDocument(docId: string): Promise<DocumentInfo> {
    await this.migrated;
    await this.pool.query('INSERT INTO documents (id) VALUES ($1) ON CONFLICT DO NOTHING', [docId]);
    const row = await this.getRow(this.pool, docId);
    if (!row) throw new Error(`document ${docId} vanished right after it was created`);
    return documentInfoOf(row);
  }

  async getDocument(docId: string): Promise<DocumentInfo | null> {
    await this.migrated;
    const row = await this.getRow(this.pool, docId);
    return row ? documentInfoOf(row) : null;
  }

  async setAccess(docId: string, access: AccessState): Promise<void> {
    checkAccessState(access);
    await this.transaction(async (client) => {
      await client.query('INSERT INTO documents (id) VALUES ($1) ON CONFLICT DO NOTHING', [docId]);
      await this.writeAccess(client, docId, access);
    });
  }

  async updateAccess(docId: string, change: (current: AccessState) => AccessState, options?: DirtyOptions): Promise<AccessState> {
    return this.transaction(async (client) => {
      // Rolled back with everything else if `change` throws: a failed change registers nothing.
      await client.query('INSERT INTO documents (id) VALUES ($1) ON CONFLICT DO NOTHING', [docId]);
      const current = await this.lockRow(client, docId);
      const next = change(documentInfoOf(current).access);
      checkAccessState(next);
      const stored = await this.writeAccess(client, docId, next);
      await this.markDirty(client, docId, options?.dirtyFor, 0);
      return documentInfoOf(stored).access;
    });
  }

  async deleteDocument(docId: string): Promise<void> {
    await this.updateAccess(docId, (current) => ({ ...current, deleted: true }));
  }

  async load(docId: string): Promise<StoredDocument> {
    return this.entriesAfter(docId, -1);
  }

  /** Per-document sequence numbers commit in order (see the top of this file), as this needs. */
  async loadSince(docId: string, afterSeq: number): Promise<StoredDocument> {
    return this.entriesAfter(docId, afterSeq);
  }

  /** The snapshot if it reaches past `afterSeq`, then the entries after it, in order. */
  private async entriesAfter(docId: string, afterSeq: number): Promise<StoredDocument> {
    await this.migrated;
    // One statement, so one view of the data: a compaction committing between reading the
    // snapshot and reading the log cannot make entries vanish from both.
    const { rows } = await this.pool.query<{ seq: number; data: Buffer }>(
      `SELECT seq, data FROM (
         SELECT 0 AS part, through_seq AS seq, data FROM snapshots WHERE doc_id = $1 AND through_seq > $2
         UNION ALL
         SELECT 1, seq, data FROM updates WHERE doc_id = $1 AND seq > $2
       ) entries ORDER BY part, seq`,
      [docId, afterSeq],
    );
    let lastSeq = Math.max(afterSeq, 0);
    let bytes = 0;
    const updates = rows.map((row) => {
      lastSeq = Math.max(lastSeq, row.seq);
      bytes += row.data.byteLength;
      return bytesOf(row.data);
    });
    return { updates, lastSeq, bytes };
  }

  async append(docId: string, updates: Uint8Array[], options?: DirtyOptions): Promise<number> {
    if (updates.length === 0) throw new RangeError('append needs at least one update');
    return this.transaction(async (client) => {
      // Bumping last_seq locks the row until commit: the next append to this document waits, so
      // its numbers, and its commit, come after ours.
      let reserved = await this.reserveSeqs(client, docId, updates.length);
      if (!reserved) {
        await client.query('INSERT INTO documents (id) VALUES ($1) ON CONFLICT DO NOTHING', [docId]);
        reserved = await this.reserveSeqs(client, docId, updates.length);
      }
      if (!reserved) throw new Error(`document ${docId} is missing inside the transaction that registered it`);
      if (reserved.deleted) throw new DocumentDeletedError(docId);
      const firstSeq = reserved.lastSeq - updates.length + 1;
      for (let start = 0; start < updates.length; start += UPDATES_PER_INSERT) {
        const chunk = updates.slice(start, start + UPDATES_PER_INSERT);
        const values = chunk.map((_, i) => `($1, $${2 * i + 2}, $${2 * i + 3})`).join(', ');
        const params = chunk.flatMap((update, i) => [firstSeq + start + i, update]);
        await client.query(`INSERT INTO updates (doc_id, seq, data) VALUES ${values}`, [docId, ...params]);
      }
      await this.markDirty(client, docId, options?.dirtyFor, updates.reduce((sum, u) => sum + u.byteLength, 0));
      return reserved.lastSeq;
    });
  }

  async compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('INSERT INTO documents (id) VALUES ($1) ON CONFLICT DO NOTHING', [docId]);
      const row = await this.lockRow(client, docId);
      // Deleted meanwhile (perhaps by another instance): the content is gone for good.
      if (row.deleted_at !== null) return;
      if (throughSeq > row.last_seq) throw new RangeError(`cannot compact ${docId} through ${throughSeq}: its last entry is ${row.last_seq}`);
      const existing = await client.query<{ through_seq: number }>('SELECT through_seq FROM snapshots WHERE doc_id = $1', [docId]);
      // A snapshot never moves backwards: an older compaction finishing late must not win.
      if ((existing.rows[0]?.through_seq ?? -1) > throughSeq) return;
      await client.query(
        `INSERT INTO snapshots (doc_id, through_seq, data) VALUES ($1, $2, $3)
         ON CONFLICT (doc_id) DO UPDATE SET through_seq = excluded.through_seq, data = excluded.data`,
        [docId, throughSeq, snapshot],
      );
      await client.query('DELETE FROM updates WHERE doc_id = $1 AND seq <= $2', [docId, throughSeq]);
    });
  }

  async listBacklog(peer: string, limit: number, afterDocId = ''): Promise<BacklogEntry[]> {
    checkBacklogLimit(limit);
    await this.migrated;
    // Document IDs are never empty, so '' sorts before all of them.
    const { rows } = await this.pool.query<{ doc_id: string; mark: number; bytes: number; since: number }>(
      'SELECT doc_id, mark, bytes, since FROM backlog WHERE peer = $1 AND doc_id > $2 ORDER BY doc_id LIMIT $3',
      [peer, afterDocId, limit],
    );
    return rows.map((row) => ({ docId: row.doc_id, mark: row.mark, bytes: row.bytes, since: row.since }));
  }

  async clearBacklog(peer: string, docId: string, mark: number, confirmedAt: number): Promise<boolean> {
    return this.transaction(async (client) => {
      const removed = await client.query('DELETE FROM backlog WHERE peer = $1 AND doc_id = $2 AND mark = $3', [peer, docId, mark]);
      if ((removed.rowCount ?? 0) > 0) return true;
      await client.query('UPDATE backlog SET since = greatest(since, $3) WHERE peer = $1 AND doc_id = $2', [peer, docId, confirmedAt]);
      return false;
    });
  }

  async backlogStats(peer: string): Promise<BacklogStats> {
    await this.migrated;
    const { rows } = await this.pool.query<{ documents: number; bytes: number; oldest: number | null }>(
      'SELECT count(*) AS documents, coalesce(sum(bytes), 0)::bigint AS bytes, min(since) AS oldest FROM backlog WHERE peer = $1',
      [peer],
    );
    const row = rows[0]!;
    return { documents: row.documents, bytes: row.bytes, oldestSince: row.oldest };
  }

  async markAllDirty(peer: string): Promise<number> {
    return this.transaction(async (client) => {
      // A peer that lost its data needs each document whole: count its stored size, not 0.
      const result = await client.query(
        `INSERT INTO backlog (peer, doc_id, mark, bytes, since)
         SELECT $1, d.id, m.mark,
           coalesce((SELECT octet_length(data) FROM snapshots WHERE doc_id = d.id), 0)
             + coalesce((SELECT sum(octet_length(data)) FROM updates WHERE doc_id = d.id), 0),
           $2
         FROM documents d, (SELECT nextval('backlog_marks') AS mark) m
         ON CONFLICT (peer, doc_id) DO UPDATE SET mark = excluded.mark, bytes = greatest(backlog.bytes, excluded.bytes)`,
        [peer, Date.now()],
      );
      return result.rowCount ?? 0;
    });
  }

  async storageId(): Promise<string> {
    await this.migrated;
    const { rows } = await this.pool.query<{ storage_id: string }>('SELECT storage_id FROM storage_meta WHERE id = 1');
    return rows[0]!.storage_id;
  }

  async knownPeers(): Promise<Map<string, string>> {
    await this.migrated;
    const { rows } = await this.pool.query<{ region: string; storage_id: string }>('SELECT region, storage_id FROM peer_regions');
    return new Map(rows.map((row) => [row.region, row.storage_id] as const));
  }

  async rememberPeer(region: string, storageId: string): Promise<void> {
    await this.migrated;
    await this.pool.query(
      'INSERT INTO peer_regions (region, storage_id) VALUES ($1, $2) ON CONFLICT (region) DO UPDATE SET storage_id = excluded.storage_id',
      [region, storageId],
    );
  }

  async ping(): Promise<void> {
    await this.migrated;
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      // Let a migration in progress finish (or fail) before its connection goes away.
      await this.migrated.catch(() => undefined);
      await endPool(this.pool);
    })();
    return this.closing;
  }

  /**
   * One transaction, once the schema is ready. READ COMMITTED is enough: writes that depend on
   * what they read lock the document row first.
   */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.migrated;
    return inTransaction(this.pool, this.log, work);
  }

  private async getRow(db: Pool | PoolClient, docId: string): Promise<DocumentRow | null> {
    const { rows } = await db.query<DocumentRow>('SELECT * FROM documents WHERE id = $1', [docId]);
    return rows[0] ?? null;
  }

  /** Inside a transaction: the document's row, locked until commit. */
  private async lockRow(client: PoolClient, docId: string): Promise<DocumentRow> {
    const { rows } = await client.query<DocumentRow>('SELECT * FROM documents WHERE id = $1 FOR UPDATE', [docId]);
    if (!rows[0]) throw new Error(`document ${docId} is missing inside the transaction that registered it`);
    return rows[0];
  }

  /** Inside a transaction: takes `count` sequence numbers for the document; null if it is not registered. */
  private async reserveSeqs(client: PoolClient, docId: string, count: number): Promise<{ lastSeq: number; deleted: boolean } | null> {
    const { rows } = await client.query<{ last_seq: number; deleted: boolean }>(
      'UPDATE documents SET last_seq = last_seq + $2 WHERE id = $1 RETURNING last_seq, deleted_at IS NOT NULL AS deleted',
      [docId, count],
    );
    return rows[0] ? { lastSeq: rows[0].last_seq, deleted: rows[0].deleted } : null;
  }

  /** Inside a transaction: stores `access`, dropping the content if it says deleted. */
  private async writeAccess(client: PoolClient, docId: string, access: AccessState): Promise<DocumentRow> {
    const { rows } = await client.query<DocumentRow>(
      `UPDATE documents SET edit_epoch = $2, edit_verifier = $3, view_epoch = $4, view_verifier = $5,
         deleted_at = CASE WHEN $6 THEN coalesce(deleted_at, now()) ELSE NULL END
       WHERE id = $1 RETURNING *`,
      [docId, access.editEpoch, access.editVerifier, access.viewEpoch, access.viewVerifier, access.deleted],
    );
    if (access.deleted) {
      await client.query('DELETE FROM snapshots WHERE doc_id = $1', [docId]);
      await client.query('DELETE FROM updates WHERE doc_id = $1', [docId]);
    }
    return rows[0]!;
  }

  /** Inside a transaction: one new mark for this change, shared by every peer it is for. */
  private async markDirty(client: PoolClient, docId: string, peers: readonly string[] | undefined, bytes: number): Promise<void> {
    if (!peers || peers.length === 0) return;
    // Unique peers: one INSERT … ON CONFLICT may not update the same row twice.
    await client.query(
      `INSERT INTO backlog (peer, doc_id, mark, bytes, since)
       SELECT peer, $2, m.mark, $3, $4 FROM unnest($1::text[]) AS peer, (SELECT nextval('backlog_marks') AS mark) m
       ON CONFLICT (peer, doc_id) DO UPDATE SET mark = excluded.mark, bytes = backlog.bytes + excluded.bytes`,
      [[...new Set(peers)], docId, bytes, Date.now()],
    );
  }
}
