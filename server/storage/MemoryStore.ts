/** In-memory adapter: for tests and benchmarks that must not touch the disk. */
import { randomUUID } from 'node:crypto';
import { INITIAL_ACCESS, type AccessState } from '../../lib/auth/capabilities';
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

interface MemoryDocument {
  info: DocumentInfo;
  snapshot: { throughSeq: number; data: Uint8Array } | null;
  updates: { seq: number; data: Uint8Array }[];
}

/**
 * Every method does all its work synchronously before its first await, so each one is atomic
 * exactly as one SqliteStore transaction is: checks come before any change, so a call that
 * throws changes nothing.
 */
export class MemoryStore implements DocumentStore {
  readonly kind = 'memory';
  private seq = 0;
  private readonly docs = new Map<string, MemoryDocument>();
  /** Per peer region, per document: what that peer has not confirmed yet. */
  private readonly backlog = new Map<string, Map<string, BacklogEntry>>();
  private readonly peers = new Map<string, string>();
  private lastMark = 0;
  private readonly id = randomUUID();
  private closed = false;

  async createDocument(docId: string): Promise<DocumentInfo> {
    return copyInfo(this.ensure(docId).info);
  }

  async getDocument(docId: string): Promise<DocumentInfo | null> {
    this.assertOpen();
    const doc = this.docs.get(docId);
    return doc ? copyInfo(doc.info) : null;
  }

  async setAccess(docId: string, access: AccessState): Promise<void> {
    checkAccessState(access);
    this.writeAccess(this.ensure(docId), access);
  }

  async updateAccess(docId: string, change: (current: AccessState) => AccessState, options?: DirtyOptions): Promise<AccessState> {
    this.assertOpen();
    // Registered only once `change` has succeeded: a throwing change leaves no trace.
    const next = change({ ...(this.docs.get(docId)?.info.access ?? INITIAL_ACCESS) });
    checkAccessState(next);
    this.writeAccess(this.ensure(docId), next);
    this.markDirty(docId, options?.dirtyFor, 0);
    return { ...this.ensure(docId).info.access };
  }

  async deleteDocument(docId: string): Promise<void> {
    await this.updateAccess(docId, (current) => ({ ...current, deleted: true }));
  }

  async load(docId: string): Promise<StoredDocument> {
    this.assertOpen();
    const doc = this.docs.get(docId);
    if (!doc) return { updates: [], lastSeq: 0, bytes: 0 };
    const entries = doc.snapshot ? [doc.snapshot.data, ...doc.updates.map((u) => u.data)] : doc.updates.map((u) => u.data);
    const lastUpdate = doc.updates[doc.updates.length - 1];
    return {
      updates: entries.map((data) => data.slice()),
      lastSeq: Math.max(doc.snapshot?.throughSeq ?? 0, lastUpdate?.seq ?? 0),
      bytes: entries.reduce((sum, data) => sum + data.byteLength, 0),
    };
  }

  async loadSince(docId: string, afterSeq: number): Promise<StoredDocument> {
    this.assertOpen();
    const doc = this.docs.get(docId);
    const entries: { seq: number; data: Uint8Array }[] = [];
    if (doc?.snapshot && doc.snapshot.throughSeq > afterSeq) entries.push({ seq: doc.snapshot.throughSeq, data: doc.snapshot.data });
    for (const update of doc?.updates ?? []) if (update.seq > afterSeq) entries.push(update);
    return {
      updates: entries.map((entry) => entry.data.slice()),
      lastSeq: entries.reduce((last, entry) => Math.max(last, entry.seq), afterSeq),
      bytes: entries.reduce((sum, entry) => sum + entry.data.byteLength, 0),
    };
  }

  async append(docId: string, updates: Uint8Array[], options?: DirtyOptions): Promise<number> {
    if (updates.length === 0) throw new RangeError('append needs at least one update');
    const doc = this.ensure(docId);
    if (doc.info.access.deleted) throw new DocumentDeletedError(docId);
    let bytes = 0;
    for (const update of updates) {
      doc.updates.push({ seq: ++this.seq, data: update.slice() });
      bytes += update.byteLength;
    }
    this.markDirty(docId, options?.dirtyFor, bytes);
    return this.seq;
  }

  async compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    const doc = this.ensure(docId);
    // Mirrors SqliteStore: a deleted document stays empty, and a snapshot never moves backwards.
    if (doc.info.access.deleted) return;
    if (doc.snapshot && doc.snapshot.throughSeq > throughSeq) return;
    doc.snapshot = { throughSeq, data: snapshot.slice() };
    doc.updates = doc.updates.filter((u) => u.seq > throughSeq);
  }

  async listBacklog(peer: string, limit: number, afterDocId = ''): Promise<BacklogEntry[]> {
    this.assertOpen();
    checkBacklogLimit(limit);
    // Sorting every page is O(n log n); fine for the tests and benchmarks this store serves.
    return [...(this.backlog.get(peer)?.values() ?? [])]
      .filter((entry) => entry.docId > afterDocId)
      .sort((a, b) => (a.docId < b.docId ? -1 : 1))
      .slice(0, limit)
      .map((entry) => ({ ...entry }));
  }

  async clearBacklog(peer: string, docId: string, mark: number, confirmedAt: number): Promise<boolean> {
    this.assertOpen();
    const entries = this.backlog.get(peer);
    const entry = entries?.get(docId);
    if (!entries || !entry) return false;
    if (entry.mark !== mark) {
      entry.since = Math.max(entry.since, confirmedAt);
      return false;
    }
    entries.delete(docId);
    return true;
  }

  async backlogStats(peer: string): Promise<BacklogStats> {
    this.assertOpen();
    const stats: BacklogStats = { documents: 0, bytes: 0, oldestSince: null };
    for (const entry of this.backlog.get(peer)?.values() ?? []) {
      stats.documents++;
      stats.bytes += entry.bytes;
      stats.oldestSince = stats.oldestSince === null ? entry.since : Math.min(stats.oldestSince, entry.since);
    }
    return stats;
  }

  async markAllDirty(peer: string): Promise<number> {
    this.assertOpen();
    const mark = ++this.lastMark;
    const now = Date.now();
    const entries = this.peerBacklog(peer);
    for (const [docId, doc] of this.docs) {
      // A peer that lost its data needs each document whole: count its stored size (as SqliteStore).
      const stored = (doc.snapshot?.data.byteLength ?? 0) + doc.updates.reduce((sum, u) => sum + u.data.byteLength, 0);
      const entry = entries.get(docId);
      if (entry) Object.assign(entry, { mark, bytes: Math.max(entry.bytes, stored) });
      else entries.set(docId, { docId, mark, bytes: stored, since: now });
    }
    return this.docs.size;
  }

  async storageId(): Promise<string> {
    this.assertOpen();
    return this.id;
  }

  async knownPeers(): Promise<Map<string, string>> {
    this.assertOpen();
    return new Map(this.peers);
  }

  async rememberPeer(region: string, storageId: string): Promise<void> {
    this.assertOpen();
    this.peers.set(region, storageId);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private writeAccess(doc: MemoryDocument, access: AccessState): void {
    doc.info.access = { ...access };
    if (access.deleted) {
      doc.snapshot = null;
      doc.updates = [];
    }
  }

  /** One new mark for this change, shared by every peer it is for (as SqliteStore). */
  private markDirty(docId: string, peers: readonly string[] | undefined, bytes: number): void {
    if (!peers || peers.length === 0) return;
    const mark = ++this.lastMark;
    const now = Date.now();
    for (const peer of peers) {
      const entries = this.peerBacklog(peer);
      const entry = entries.get(docId);
      if (entry) Object.assign(entry, { mark, bytes: entry.bytes + bytes });
      else entries.set(docId, { docId, mark, bytes, since: now });
    }
  }

  private peerBacklog(peer: string): Map<string, BacklogEntry> {
    let entries = this.backlog.get(peer);
    if (!entries) {
      entries = new Map();
      this.backlog.set(peer, entries);
    }
    return entries;
  }

  private ensure(docId: string): MemoryDocument {
    this.assertOpen();
    let doc = this.docs.get(docId);
    if (!doc) {
      doc = { info: { id: docId, createdAt: new Date(), access: { ...INITIAL_ACCESS } }, snapshot: null, updates: [] };
      this.docs.set(docId, doc);
    }
    return doc;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStore is closed');
  }
}

function copyInfo(info: DocumentInfo): DocumentInfo {
  return { ...info, access: { ...info.access } };
}
