/** In-memory adapter: for tests and benchmarks that must not touch the disk. */
import { INITIAL_ACCESS, type AccessState } from '../../lib/auth/capabilities';
import { DocumentDeletedError, type DocumentInfo, type DocumentStore, type StoredDocument } from './DocumentStore';

interface MemoryDocument {
  info: DocumentInfo;
  snapshot: { throughSeq: number; data: Uint8Array } | null;
  updates: { seq: number; data: Uint8Array }[];
}

export class MemoryStore implements DocumentStore {
  readonly kind = 'memory';
  private seq = 0;
  private readonly docs = new Map<string, MemoryDocument>();
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
    const doc = this.ensure(docId);
    doc.info.access = { ...access };
    if (access.deleted) {
      doc.snapshot = null;
      doc.updates = [];
    }
  }

  async deleteDocument(docId: string): Promise<void> {
    await this.setAccess(docId, { ...this.ensure(docId).info.access, deleted: true });
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

  async append(docId: string, updates: Uint8Array[]): Promise<number> {
    if (updates.length === 0) throw new RangeError('append needs at least one update');
    const doc = this.ensure(docId);
    if (doc.info.access.deleted) throw new DocumentDeletedError(docId);
    for (const update of updates) doc.updates.push({ seq: ++this.seq, data: update.slice() });
    return this.seq;
  }

  async compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    const doc = this.ensure(docId);
    // Mirrors SqliteStore: a snapshot never moves backwards.
    if (doc.snapshot && doc.snapshot.throughSeq > throughSeq) return;
    doc.snapshot = { throughSeq, data: snapshot.slice() };
    doc.updates = doc.updates.filter((u) => u.seq > throughSeq);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
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
