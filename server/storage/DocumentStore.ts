import type { AccessState } from '../../lib/auth/capabilities';

/**
 * The storage interface: everything the relay needs from a database, and nothing more.
 *
 * A document is stored as an append-only log of Yjs updates plus, after compaction, one snapshot
 * that replaces the log entries it covers. Yjs updates commute and are idempotent, so loading is
 * "apply everything"; order only matters for speed. Every adapter (SQLite now, PostgreSQL later)
 * must pass tests/unit/storage-contract.test.ts.
 */

export interface StoredDocument {
  /** The snapshot (if any) followed by the updates appended after it. Empty for an unknown document. */
  updates: Uint8Array[];
  /** Sequence number of the newest entry included (0 when nothing is stored). */
  lastSeq: number;
  /** Total bytes of `updates`, to decide when to compact. */
  bytes: number;
}

export interface DocumentInfo {
  id: string;
  createdAt: Date;
  /** Who may do what: rotation epochs and verifiers, deletion (see lib/auth/capabilities.ts). */
  access: AccessState;
}

/** Thrown by `append` for a deleted document: nothing may bring it back. */
export class DocumentDeletedError extends Error {
  override readonly name = 'DocumentDeletedError';
  constructor(readonly docId: string) {
    super(`document ${docId} is deleted`);
  }
}

export interface DocumentStore {
  /** A short name for logs and /healthz, e.g. "sqlite". */
  readonly kind: string;

  /** Registers a document (idempotent). Returns its info, existing or new. */
  createDocument(docId: string): Promise<DocumentInfo>;

  /** Info for a document that was created or has stored updates; null if unknown. */
  getDocument(docId: string): Promise<DocumentInfo | null>;

  /** Everything stored for a document. */
  load(docId: string): Promise<StoredDocument>;

  /** Replaces a document's access metadata (registering the document if needed). */
  setAccess(docId: string, access: AccessState): Promise<void>;

  /**
   * Deletes a document's content for good and leaves a tombstone (access.deleted = true), so
   * that no replica can bring it back. Idempotent.
   */
  deleteDocument(docId: string): Promise<void>;

  /**
   * Appends updates atomically (all or none) and returns the sequence number of the last one.
   * Sequence numbers only grow. Registers the document if needed. Throws DocumentDeletedError
   * for a deleted document.
   */
  append(docId: string, updates: Uint8Array[]): Promise<number>;

  /**
   * Replaces every entry with sequence number <= throughSeq by `snapshot`, which must contain at
   * least their combined content. Entries appended after throughSeq are kept.
   */
  compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void>;

  /** Cheap round-trip to prove the store is usable (for /healthz). */
  ping(): Promise<void>;

  close(): Promise<void>;
}
