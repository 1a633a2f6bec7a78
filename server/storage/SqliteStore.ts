/**
 * SQLite adapter (better-sqlite3, WAL). The embedded default: one file under DATA_DIR.
 *
 * better-sqlite3 is synchronous; a write of a few KB takes microseconds, so the relay can store
 * every update before it moves on. WAL with synchronous=NORMAL keeps committed data across a
 * process crash (SIGKILL); only an OS crash or power loss can lose the last transactions.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AccessState } from '../../lib/auth/capabilities';
import { DocumentDeletedError, type DocumentInfo, type DocumentStore, type StoredDocument } from './DocumentStore';

interface DocumentRow {
  id: string;
  created_at: number;
  edit_epoch: number;
  edit_verifier: string | null;
  view_epoch: number;
  view_verifier: string | null;
  deleted_at: number | null;
}

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
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
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
      insertUpdate: this.db.prepare('INSERT INTO updates (doc_id, data) VALUES (?, ?)'),
      upsertSnapshot: this.db.prepare(
        `INSERT INTO snapshots (doc_id, through_seq, data) VALUES (?, ?, ?)
         ON CONFLICT (doc_id) DO UPDATE SET through_seq = excluded.through_seq, data = excluded.data`,
      ),
      deleteUpdatesThrough: this.db.prepare('DELETE FROM updates WHERE doc_id = ? AND seq <= ?'),
      ping: this.db.prepare('SELECT 1'),
    };
    this.tx = {
      setAccess: this.db.transaction((docId: string, access: AccessState) => {
        this.stmt.insertDoc.run(docId, Date.now());
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
      }),
      load: this.db.transaction((docId: string): StoredDocument => {
        const updates: Uint8Array[] = [];
        let lastSeq = 0;
        let bytes = 0;
        const snapshot = this.stmt.getSnapshot.get(docId);
        if (snapshot) {
          updates.push(toUint8Array(snapshot.data));
          lastSeq = snapshot.through_seq;
          bytes += snapshot.data.byteLength;
        }
        for (const row of this.stmt.getUpdates.iterate(docId)) {
          updates.push(toUint8Array(row.data));
          lastSeq = Math.max(lastSeq, row.seq);
          bytes += row.data.byteLength;
        }
        return { updates, lastSeq, bytes };
      }),
      append: this.db.transaction((docId: string, updates: Uint8Array[]): number => {
        const row = this.stmt.getDoc.get(docId);
        if (row === undefined) this.stmt.insertDoc.run(docId, Date.now());
        else if (row.deleted_at !== null) throw new DocumentDeletedError(docId);
        let seq = 0;
        for (const update of updates) {
          seq = Number(this.stmt.insertUpdate.run(docId, update).lastInsertRowid);
        }
        return seq;
      }),
      compact: this.db.transaction((docId: string, snapshot: Uint8Array, throughSeq: number) => {
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
    return toInfo(row);
  }

  async getDocument(docId: string): Promise<DocumentInfo | null> {
    const row = this.stmt.getDoc.get(docId);
    return row ? toInfo(row) : null;
  }

  async setAccess(docId: string, access: AccessState): Promise<void> {
    this.tx.setAccess(docId, access);
  }

  async deleteDocument(docId: string): Promise<void> {
    const current = this.stmt.getDoc.get(docId);
    const access = current ? toInfo(current).access : { editEpoch: 0, editVerifier: null, viewEpoch: 0, viewVerifier: null, deleted: false };
    await this.setAccess(docId, { ...access, deleted: true });
  }

  async load(docId: string): Promise<StoredDocument> {
    return this.tx.load(docId);
  }

  async append(docId: string, updates: Uint8Array[]): Promise<number> {
    if (updates.length === 0) throw new RangeError('append needs at least one update');
    return this.tx.append(docId, updates);
  }

  async compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.tx.compact(docId, snapshot, throughSeq);
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

function toInfo(row: DocumentRow): DocumentInfo {
  return {
    id: row.id,
    createdAt: new Date(row.created_at),
    access: {
      editEpoch: row.edit_epoch,
      editVerifier: row.edit_verifier,
      viewEpoch: row.view_epoch,
      viewVerifier: row.view_verifier,
      deleted: row.deleted_at !== null,
    },
  };
}

function toUint8Array(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
