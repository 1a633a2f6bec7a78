/**
 * SQLite adapter (better-sqlite3, WAL). The embedded default: one file under DATA_DIR.
 *
 * better-sqlite3 is synchronous; a write of a few KB takes microseconds, so the relay can store
 * every update before it moves on. WAL with synchronous=NORMAL keeps committed data across a
 * process crash (SIGKILL); only an OS crash or power loss can lose the last transactions.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AccessState } from '../../lib/auth/capabilities';
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

type DocumentRow = DocumentRowOf<number>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  id            TEXT PRIMARY KEY,
  created_at    INTEGER NOT NULL,
  edit_epoch    INTEGER NOT NULL DEFAULT 0,
  edit_verifier TEXT,
  view_epoch    INTEGER NOT NULL DEFAULT 0,
  view_verifier TEXT,
  deleted_at    INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
  doc_id      TEXT PRIMARY KEY,
  through_seq INTEGER NOT NULL,
  data        BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS updates (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id TEXT NOT NULL,
  data   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_by_doc ON updates (doc_id, seq);
-- Region replication (issue #12). Additive, with no migration step: a data directory written by
-- an older version gains these tables when it is next opened, and everything else is unchanged.
-- One row: this data's random id, and the last backlog mark handed out (marks are never reused).
CREATE TABLE IF NOT EXISTS storage_meta (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  storage_id TEXT NOT NULL,
  last_mark  INTEGER NOT NULL
);
-- What each peer region has not confirmed yet; written in the transaction of the change.
CREATE TABLE IF NOT EXISTS backlog (
  peer   TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  mark   INTEGER NOT NULL,
  bytes  INTEGER NOT NULL,
  since  INTEGER NOT NULL,
  PRIMARY KEY (peer, doc_id)
) WITHOUT ROWID;
-- Peer regions linked with, and their storage id then (their backlog is complete since).
CREATE TABLE IF NOT EXISTS peer_regions (
  region     TEXT PRIMARY KEY,
  storage_id TEXT NOT NULL
) WITHOUT ROWID;
`;

export const SQLITE_FILE_NAME = 'concord.db';

export class SqliteStore implements DocumentStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  /**
   * Transactions built once: better-sqlite3's db.transaction() makes four wrapper functions and
   * defines properties on each, which cost more than the small append it wraps.
   */
  private readonly tx;

  /** Opens (creating if needed) `<dataDir>/concord.db`; pass ':memory:' as dataDir for tests. */
  constructor(dataDir: string) {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      fs.mkdirSync(dataDir, { recursive: true });
      file = path.join(dataDir, SQLITE_FILE_NAME);
    }
    this.db = new Database(file);
    switchToWal(this.db);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // OR IGNORE: the id is made once, by whichever store opens the data first, and kept forever.
    this.db.prepare('INSERT OR IGNORE INTO storage_meta (id, storage_id, last_mark) VALUES (1, ?, 0)').run(randomUUID());
    this.stmt = {
      insertDoc: this.db.prepare('INSERT OR IGNORE INTO documents (id, created_at) VALUES (?, ?)'),
      getDoc: this.db.prepare<[string], DocumentRow>('SELECT * FROM documents WHERE id = ?'),
      setAccess: this.db.prepare(
        `UPDATE documents SET edit_epoch = ?, edit_verifier = ?, view_epoch = ?, view_verifier = ?,
           deleted_at = CASE WHEN ? THEN coalesce(deleted_at, ?) ELSE NULL END WHERE id = ?`,
      ),
      deleteSnapshot: this.db.prepare('DELETE FROM snapshots WHERE doc_id = ?'),
      deleteUpdates: this.db.prepare('DELETE FROM updates WHERE doc_id = ?'),
      getSnapshot: this.db.prepare<[string], { through_seq: number; data: Buffer }>(
        'SELECT through_seq, data FROM snapshots WHERE doc_id = ?',
      ),
      getSnapshotSeq: this.db.prepare<[string], { through_seq: number }>('SELECT through_seq FROM snapshots WHERE doc_id = ?'),
      getUpdates: this.db.prepare<[string], { seq: number; data: Buffer }>(
        'SELECT seq, data FROM updates WHERE doc_id = ? ORDER BY seq',
      ),
      getUpdatesAfter: this.db.prepare<[string, number], { seq: number; data: Buffer }>(
        'SELECT seq, data FROM updates WHERE doc_id = ? AND seq > ? ORDER BY seq',
      ),
      insertUpdate: this.db.prepare('INSERT INTO updates (doc_id, data) VALUES (?, ?)'),
      upsertSnapshot: this.db.prepare(
        `INSERT INTO snapshots (doc_id, through_seq, data) VALUES (?, ?, ?)
         ON CONFLICT (doc_id) DO UPDATE SET through_seq = excluded.through_seq, data = excluded.data`,
      ),
      deleteUpdatesThrough: this.db.prepare('DELETE FROM updates WHERE doc_id = ? AND seq <= ?'),
      ping: this.db.prepare('SELECT 1'),
      storageId: this.db.prepare<[], { storage_id: string }>('SELECT storage_id FROM storage_meta WHERE id = 1'),
      nextMark: this.db.prepare<[], { last_mark: number }>(
        'UPDATE storage_meta SET last_mark = last_mark + 1 WHERE id = 1 RETURNING last_mark',
      ),
      markDirty: this.db.prepare(
        `INSERT INTO backlog (peer, doc_id, mark, bytes, since) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (peer, doc_id) DO UPDATE SET mark = excluded.mark, bytes = bytes + excluded.bytes`,
      ),
      // A peer that lost its data needs each document whole: count its stored size, not 0.
      markAllDirty: this.db.prepare(
        `INSERT INTO backlog (peer, doc_id, mark, bytes, since)
         SELECT ?, d.id, ?,
           coalesce((SELECT length(data) FROM snapshots WHERE doc_id = d.id), 0)
             + coalesce((SELECT sum(length(data)) FROM updates WHERE doc_id = d.id), 0),
           ?
         FROM documents d WHERE true
         ON CONFLICT (peer, doc_id) DO UPDATE SET mark = excluded.mark, bytes = max(bytes, excluded.bytes)`,
      ),
      countDocs: this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM documents'),
      listBacklog: this.db.prepare<[string, string, number], { doc_id: string; mark: number; bytes: number; since: number }>(
        'SELECT doc_id, mark, bytes, since FROM backlog WHERE peer = ? AND doc_id > ? ORDER BY doc_id LIMIT ?',
      ),
      clearBacklog: this.db.prepare('DELETE FROM backlog WHERE peer = ? AND doc_id = ? AND mark = ?'),
      confirmBacklogThrough: this.db.prepare('UPDATE backlog SET since = max(since, ?) WHERE peer = ? AND doc_id = ?'),
      knownPeers: this.db.prepare<[], { region: string; storage_id: string }>('SELECT region, storage_id FROM peer_regions'),
      rememberPeer: this.db.prepare(
        'INSERT INTO peer_regions (region, storage_id) VALUES (?, ?) ON CONFLICT (region) DO UPDATE SET storage_id = excluded.storage_id',
      ),
      backlogStats: this.db.prepare<[string], { documents: number; bytes: number; oldest: number | null }>(
        'SELECT count(*) AS documents, coalesce(sum(bytes), 0) AS bytes, min(since) AS oldest FROM backlog WHERE peer = ?',
      ),
    };
    this.tx = {
      setAccess: this.db.transaction((docId: string, access: AccessState) => {
        this.stmt.insertDoc.run(docId, Date.now());
        this.writeAccess(docId, access);
      }),
      updateAccess: this.db.transaction(
        (docId: string, change: (current: AccessState) => AccessState, dirtyFor: readonly string[]): AccessState => {
          this.stmt.insertDoc.run(docId, Date.now());
          const next = change(documentInfoOf(this.getRow(docId)).access);
          checkAccessState(next);
          this.writeAccess(docId, next);
          this.markDirty(docId, dirtyFor, 0);
          return documentInfoOf(this.getRow(docId)).access;
        },
      ),
      clearBacklog: this.db.transaction((peer: string, docId: string, mark: number, confirmedAt: number): boolean => {
        if (this.stmt.clearBacklog.run(peer, docId, mark).changes > 0) return true;
        this.stmt.confirmBacklogThrough.run(confirmedAt, peer, docId);
        return false;
      }),
      markAllDirty: this.db.transaction((peer: string): number => {
        this.stmt.markAllDirty.run(peer, this.stmt.nextMark.get()!.last_mark, Date.now());
        return this.stmt.countDocs.get()!.n;
      }),
      load: this.db.transaction((docId: string): StoredDocument => {
        const updates: Uint8Array[] = [];
        let lastSeq = 0;
        let bytes = 0;
        const snapshot = this.stmt.getSnapshot.get(docId);
        if (snapshot) {
          updates.push(bytesOf(snapshot.data));
          lastSeq = snapshot.through_seq;
          bytes += snapshot.data.byteLength;
        }
        for (const row of this.stmt.getUpdates.iterate(docId)) {
          updates.push(bytesOf(row.data));
          lastSeq = Math.max(lastSeq, row.seq);
          bytes += row.data.byteLength;
        }
        return { updates, lastSeq, bytes };
      }),
      // Sequence numbers come from one AUTOINCREMENT under the write lock, so they commit in order.
      loadSince: this.db.transaction((docId: string, afterSeq: number): StoredDocument => {
        const updates: Uint8Array[] = [];
        let lastSeq = afterSeq;
        let bytes = 0;
        const snapshot = this.stmt.getSnapshot.get(docId);
        if (snapshot && snapshot.through_seq > afterSeq) {
          updates.push(bytesOf(snapshot.data));
          lastSeq = snapshot.through_seq;
          bytes += snapshot.data.byteLength;
        }
        for (const row of this.stmt.getUpdatesAfter.iterate(docId, afterSeq)) {
          updates.push(bytesOf(row.data));
          lastSeq = Math.max(lastSeq, row.seq);
          bytes += row.data.byteLength;
        }
        return { updates, lastSeq, bytes };
      }),
      append: this.db.transaction((docId: string, updates: Uint8Array[], dirtyFor: readonly string[]): number => {
        const row = this.stmt.getDoc.get(docId);
        if (row === undefined) this.stmt.insertDoc.run(docId, Date.now());
        else if (row.deleted_at !== null) throw new DocumentDeletedError(docId);
        let seq = 0;
        let bytes = 0;
        for (const update of updates) {
          seq = Number(this.stmt.insertUpdate.run(docId, update).lastInsertRowid);
          bytes += update.byteLength;
        }
        this.markDirty(docId, dirtyFor, bytes);
        return seq;
      }),
      compact: this.db.transaction((docId: string, snapshot: Uint8Array, throughSeq: number) => {
        // Deleted meanwhile (perhaps by another instance): the content is gone for good.
        if ((this.stmt.getDoc.get(docId)?.deleted_at ?? null) !== null) return;
        const existing = this.stmt.getSnapshotSeq.get(docId);
        // A snapshot never moves backwards: an older compaction finishing late must not win.
        if (existing && existing.through_seq > throughSeq) return;
        this.stmt.upsertSnapshot.run(docId, throughSeq, snapshot);
        this.stmt.deleteUpdatesThrough.run(docId, throughSeq);
      }),
    };
  }

  async createDocument(docId: string): Promise<DocumentInfo> {
    this.stmt.insertDoc.run(docId, Date.now());
    const row = this.stmt.getDoc.get(docId);
    if (!row) throw new Error(`document ${docId} vanished right after it was created`);
    return documentInfoOf(row);
  }

  async getDocument(docId: string): Promise<DocumentInfo | null> {
    const row = this.stmt.getDoc.get(docId);
    return row ? documentInfoOf(row) : null;
  }

  // Every write transaction runs IMMEDIATE: it takes the write lock before its first read, so a
  // second store (process) on the same file waits (busy_timeout) instead of failing with
  // SQLITE_BUSY_SNAPSHOT or writing over a state it never read (issue #13, several writers).
  // Writers taking turns also keep the one AUTOINCREMENT sequence in commit order, as the
  // contract of append requires (PostgresStore needs per-document numbers for that).
  async setAccess(docId: string, access: AccessState): Promise<void> {
    checkAccessState(access);
    this.tx.setAccess.immediate(docId, access);
  }

  async updateAccess(docId: string, change: (current: AccessState) => AccessState, options?: DirtyOptions): Promise<AccessState> {
    return this.tx.updateAccess.immediate(docId, change, options?.dirtyFor ?? []);
  }

  async deleteDocument(docId: string): Promise<void> {
    await this.updateAccess(docId, (current) => ({ ...current, deleted: true }));
  }

  async load(docId: string): Promise<StoredDocument> {
    return this.tx.load(docId);
  }

  async loadSince(docId: string, afterSeq: number): Promise<StoredDocument> {
    return this.tx.loadSince(docId, afterSeq);
  }

  async append(docId: string, updates: Uint8Array[], options?: DirtyOptions): Promise<number> {
    if (updates.length === 0) throw new RangeError('append needs at least one update');
    return this.tx.append.immediate(docId, updates, options?.dirtyFor ?? []);
  }

  async compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.tx.compact.immediate(docId, snapshot, throughSeq);
  }

  async listBacklog(peer: string, limit: number, afterDocId = ''): Promise<BacklogEntry[]> {
    checkBacklogLimit(limit);
    // Document IDs are never empty, so '' sorts before all of them.
    return this.stmt.listBacklog
      .all(peer, afterDocId, limit)
      .map((row) => ({ docId: row.doc_id, mark: row.mark, bytes: row.bytes, since: row.since }));
  }

  async clearBacklog(peer: string, docId: string, mark: number, confirmedAt: number): Promise<boolean> {
    return this.tx.clearBacklog.immediate(peer, docId, mark, confirmedAt);
  }

  async backlogStats(peer: string): Promise<BacklogStats> {
    const row = this.stmt.backlogStats.get(peer)!;
    return { documents: row.documents, bytes: row.bytes, oldestSince: row.oldest };
  }

  async markAllDirty(peer: string): Promise<number> {
    return this.tx.markAllDirty.immediate(peer);
  }

  async storageId(): Promise<string> {
    return this.stmt.storageId.get()!.storage_id;
  }

  async knownPeers(): Promise<Map<string, string>> {
    return new Map(this.stmt.knownPeers.all().map((row) => [row.region, row.storage_id] as const));
  }

  async rememberPeer(region: string, storageId: string): Promise<void> {
    this.stmt.rememberPeer.run(region, storageId);
  }

  /** Inside a transaction: stores `access`, dropping the content if it says deleted. */
  private writeAccess(docId: string, access: AccessState): void {
    this.stmt.setAccess.run(
      access.editEpoch,
      access.editVerifier,
      access.viewEpoch,
      access.viewVerifier,
      access.deleted ? 1 : 0,
      Date.now(),
      docId,
    );
    if (access.deleted) this.dropContent(docId);
  }

  /** Inside a transaction: one new mark for this change, shared by every peer it is for. */
  private markDirty(docId: string, peers: readonly string[], bytes: number): void {
    if (peers.length === 0) return;
    const mark = this.stmt.nextMark.get()!.last_mark;
    const now = Date.now();
    for (const peer of peers) this.stmt.markDirty.run(peer, docId, mark, bytes, now);
  }

  private getRow(docId: string): DocumentRow {
    const row = this.stmt.getDoc.get(docId);
    if (!row) throw new Error(`document ${docId} is missing inside the transaction that registered it`);
    return row;
  }

  private dropContent(docId: string): void {
    this.stmt.deleteSnapshot.run(docId);
    this.stmt.deleteUpdates.run(docId);
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** How long opening waits for another process's lock to switch a new database file to WAL. */
const WAL_SWITCH_TIMEOUT_MS = 5000;

/**
 * Switches the file to WAL (kept in the file: done once). SQLite answers SQLITE_BUSY at once,
 * without the busy timeout, while another connection holds a lock on a file not yet in WAL —
 * as when several instances start on a new data directory together — so this waits and retries.
 */
function switchToWal(db: Database.Database): void {
  const deadline = Date.now() + WAL_SWITCH_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      // Synchronous like the rest of opening: the store is not usable until this is done.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
