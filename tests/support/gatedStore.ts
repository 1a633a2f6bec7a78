/**
 * A DocumentStore for tests that must know when storage is touched, instead of sleeping and
 * hoping: it wraps a MemoryStore, says when an append or load starts, holds them until released,
 * and fails them on request. A test proves "X did not happen" by waiting for the event that
 * would have caused X (e.g. "append started, and is held") and then checking.
 */
import type { AccessState } from '../../lib/auth/capabilities';
import type {
  BacklogEntry,
  BacklogStats,
  DirtyOptions,
  DocumentInfo,
  DocumentStore,
  StoredDocument,
} from '../../server/storage/DocumentStore';
import { MemoryStore } from '../../server/storage/MemoryStore';

/** One call into the store, as seen when it started. */
export interface StoreCall {
  docId: string;
  /** For appends: the updates passed. */
  updates?: Uint8Array[];
}

/** Held calls wait on this until it is released; a released gate lets every call through. */
class Gate {
  private opened: Promise<void> | null = null;
  private open: () => void = () => undefined;

  get held(): boolean {
    return this.opened !== null;
  }

  hold(): void {
    if (this.opened) return;
    this.opened = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    const open = this.open;
    this.opened = null;
    open();
  }

  pass(): Promise<void> {
    return this.opened ?? Promise.resolve();
  }
}

/** Calls of one kind: counted, announced to whoever waits for the next one, gated, failed on request. */
class CallPoint {
  /** Calls started so far. */
  started = 0;
  /** Calls that rejected so far (after the failure was injected). */
  failed = 0;
  /** When set, every call rejects with this (after passing the gate). */
  failure: Error | null = null;
  readonly gate = new Gate();
  private waiters: { after: number; resolve: (call: StoreCall) => void }[] = [];

  async run<T>(call: StoreCall, body: () => Promise<T>): Promise<T> {
    this.started++;
    const due = this.waiters.filter((w) => w.after < this.started);
    this.waiters = this.waiters.filter((w) => w.after >= this.started);
    for (const w of due) w.resolve(call);
    await this.gate.pass();
    if (this.failure) {
      this.failed++;
      throw this.failure;
    }
    return body();
  }

  /** Resolves when a call starts after this one was asked for (the n-th one from now with `count`). */
  next(count = 1): Promise<StoreCall> {
    return new Promise((resolve) => this.waiters.push({ after: this.started + count - 1, resolve }));
  }
}

export class GatedStore implements DocumentStore {
  readonly kind = 'gated';
  readonly appends = new CallPoint();
  readonly loads = new CallPoint();
  /** getDocument calls that have returned (the relay's door reads access with it). */
  documentLookups = 0;
  /** Every update of every append that succeeded, in order (compaction does not change it). */
  readonly appended: Uint8Array[] = [];

  constructor(readonly inner: DocumentStore = new MemoryStore()) {}

  createDocument(docId: string): Promise<DocumentInfo> {
    return this.inner.createDocument(docId);
  }

  async getDocument(docId: string): Promise<DocumentInfo | null> {
    const info = await this.inner.getDocument(docId);
    this.documentLookups++;
    return info;
  }

  load(docId: string): Promise<StoredDocument> {
    return this.loads.run({ docId }, () => this.inner.load(docId));
  }

  loadSince(docId: string, afterSeq: number): Promise<StoredDocument> {
    return this.inner.loadSince(docId, afterSeq);
  }

  setAccess(docId: string, access: AccessState): Promise<void> {
    return this.inner.setAccess(docId, access);
  }

  updateAccess(docId: string, change: (current: AccessState) => AccessState, options?: DirtyOptions): Promise<AccessState> {
    return this.inner.updateAccess(docId, change, options);
  }

  deleteDocument(docId: string): Promise<void> {
    return this.inner.deleteDocument(docId);
  }

  append(docId: string, updates: Uint8Array[], options?: DirtyOptions): Promise<number> {
    return this.appends.run({ docId, updates }, async () => {
      const seq = await this.inner.append(docId, updates, options);
      this.appended.push(...updates);
      return seq;
    });
  }

  compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    return this.inner.compact(docId, snapshot, throughSeq);
  }

  listBacklog(peer: string, limit: number, afterDocId?: string): Promise<BacklogEntry[]> {
    return this.inner.listBacklog(peer, limit, afterDocId);
  }

  clearBacklog(peer: string, docId: string, mark: number, confirmedAt: number): Promise<boolean> {
    return this.inner.clearBacklog(peer, docId, mark, confirmedAt);
  }

  backlogStats(peer: string): Promise<BacklogStats> {
    return this.inner.backlogStats(peer);
  }

  markAllDirty(peer: string): Promise<number> {
    return this.inner.markAllDirty(peer);
  }

  storageId(): Promise<string> {
    return this.inner.storageId();
  }

  knownPeers(): Promise<Map<string, string>> {
    return this.inner.knownPeers();
  }

  rememberPeer(region: string, storageId: string): Promise<void> {
    return this.inner.rememberPeer(region, storageId);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    // Held calls would otherwise never finish: closing is the end of the test.
    this.appends.gate.release();
    this.loads.gate.release();
    return this.inner.close();
  }
}
