import type { AccessState } from '../../lib/auth/capabilities';

/**
 * The storage interface: everything the relay needs from a database, and nothing more.
 *
 * A document is stored as an append-only log of Yjs updates plus, after compaction, one snapshot
 * that replaces the log entries it covers. Yjs updates commute and are idempotent, so loading is
 * "apply everything"; order only matters for speed. Every adapter (SQLite, PostgreSQL, memory)
 * must pass tests/unit/storage-contract.test.ts.
 *
 * For region replication (issue #12) the store also keeps a backlog per peer region: the
 * documents that peer has not confirmed yet. It is written in the same transaction as the change
 * that caused it, so a crash at any moment can lose neither the change nor the fact that a peer
 * still needs it. Every method here is one transaction, so a SQL database (PostgreSQL, issue #13)
 * implements it the same way with several writers on one database.
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

/** One document a peer region has not confirmed yet. */
export interface BacklogEntry {
  docId: string;
  /**
   * Changes each time the document is marked dirty again (never reused by a store, compared only
   * for equality); clearBacklog only clears the mark it was given.
   */
  mark: number;
  /** Bytes of updates appended since the peer last confirmed (approximate; for /healthz). */
  bytes: number;
  /** When it was first marked dirty since the last confirmation (ms since epoch). */
  since: number;
}

export interface BacklogStats {
  documents: number;
  bytes: number;
  /** `since` of the oldest entry; null when the backlog is empty. */
  oldestSince: number | null;
}

/** Options of the writes that can mark a document dirty for peer regions. */
export interface DirtyOptions {
  /**
   * Peer regions (by name) that must receive this change: the document is marked dirty for each
   * in the same transaction as the change (a new entry, or a new mark and more bytes), all or none.
   */
  dirtyFor?: readonly string[];
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

  /**
   * What was stored for a document after sequence number `afterSeq` (a `lastSeq` this caller
   * read before), in one consistent read: the entries appended since, in order, preceded by the
   * snapshot when a compaction since then replaced some of them. `lastSeq` is the newest entry
   * included, or `afterSeq` when there is none. Another instance of the region reads here what
   * the bus between instances may have dropped (server/instances), so an adapter must make a
   * document's entries visible in sequence order: once an entry is visible, every entry of that
   * document with a lower sequence number is too (a later commit never takes a lower number).
   */
  loadSince(docId: string, afterSeq: number): Promise<StoredDocument>;

  /**
   * Replaces a document's access metadata (registering the document if needed). A blind
   * overwrite: two concurrent read-then-set callers lose one change. Prefer updateAccess.
   */
  setAccess(docId: string, access: AccessState): Promise<void>;

  /**
   * Atomic read-modify-write of the access record (registering the document if needed): reads
   * the current state, stores exactly what `change` returns, and returns what was stored. Two
   * concurrent calls never lose either change, even from two store instances on one database.
   *
   * `change` must be pure and synchronous: an adapter may call it more than once (a SQL adapter
   * retrying a serialisation failure) and must not await inside the transaction. The store does
   * not merge: to keep deletion final, the caller returns `mergeAccess(current, …)`
   * (lib/auth/capabilities.ts). If the result is deleted, the content is dropped in the same
   * transaction and the tombstone stays. Marks the document dirty for `options.dirtyFor` in the
   * same transaction (with 0 bytes). Throws RangeError if `change` returns a malformed state.
   */
  updateAccess(docId: string, change: (current: AccessState) => AccessState, options?: DirtyOptions): Promise<AccessState>;

  /**
   * Deletes a document's content for good and leaves a tombstone (access.deleted = true), so
   * that no replica can bring it back. Idempotent. The same as updateAccess setting `deleted`.
   */
  deleteDocument(docId: string): Promise<void>;

  /**
   * Appends updates atomically (all or none) and returns the sequence number of the last one.
   * A document's sequence numbers only grow, and become visible in order: a `load` that includes
   * entry N includes every entry of that document numbered below N, whichever store instance
   * appended it (issue #13). Registers the document if needed. Throws DocumentDeletedError
   * for a deleted document (and then marks nothing). With `options.dirtyFor`, marks the document
   * dirty for those peers in the same transaction, adding the updates' bytes.
   */
  append(docId: string, updates: Uint8Array[], options?: DirtyOptions): Promise<number>;

  /**
   * Replaces every entry with sequence number <= throughSeq by `snapshot`, which must contain at
   * least their combined content. Entries appended after throughSeq are kept. Does nothing for a
   * deleted document, or when the stored snapshot is newer.
   *
   * With several instances on one storage, an instance's in-memory document may lack entries
   * another instance appended below its own last seq: compact what `load` returned, through its
   * `lastSeq` (safe by the ordering `append` guarantees).
   */
  compact(docId: string, snapshot: Uint8Array, throughSeq: number): Promise<void>;

  /**
   * Up to `limit` entries of a peer's backlog, ordered by docId, starting after `afterDocId`
   * (keyset paging, so a catch-up streams any number of documents with bounded memory).
   */
  listBacklog(peer: string, limit: number, afterDocId?: string): Promise<BacklogEntry[]>;

  /**
   * The peer confirmed the state read at `confirmedAt` (ms since epoch), after listing the entry
   * with `mark`. Removes the entry if its mark is still `mark`. Otherwise the document was marked
   * dirty again meanwhile: the entry stays, to be sent again, but what is left unconfirmed is only
   * newer than `confirmedAt`, so its `since` moves up to it (replication lag stays honest while a
   * document is edited without pause). Returns whether it removed the entry.
   */
  clearBacklog(peer: string, docId: string, mark: number, confirmedAt: number): Promise<boolean>;

  /** Size of a peer's backlog, for /healthz and /metrics. */
  backlogStats(peer: string): Promise<BacklogStats>;

  /**
   * Marks every known document dirty for a peer — deleted ones too, since their tombstones must
   * reach it — e.g. when the peer's storage id changed (it lost its data). Returns how many.
   */
  markAllDirty(peer: string): Promise<number>;

  /**
   * A random id of this data (directory or database), created once with the storage and kept
   * forever. A region restarted on empty storage gets a new one, which tells its peers to send
   * it everything again.
   */
  storageId(): Promise<string>;

  /**
   * Peer regions this storage has been linked with, and the storage id each had then. A region
   * restarted on the same storage knows its peers' backlogs are complete since then, so it need
   * not compare every document with them again.
   */
  knownPeers(): Promise<Map<string, string>>;

  /** Records (or updates) a peer region and its storage id, after its backlog is complete. */
  rememberPeer(region: string, storageId: string): Promise<void>;

  /** Cheap round-trip to prove the store is usable (for /healthz). */
  ping(): Promise<void>;

  close(): Promise<void>;
}

/**
 * Checks a state `updateAccess`'s change function returned, so a bug in a caller cannot store
 * something no verifier understands (every adapter calls it before writing).
 */
export function checkAccessState(access: AccessState): void {
  for (const epoch of [access.editEpoch, access.viewEpoch]) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`access epoch must be a non-negative integer, got ${epoch}`);
  }
  for (const verifier of [access.editVerifier, access.viewVerifier]) {
    if (verifier !== null && typeof verifier !== 'string') throw new RangeError('access verifier must be a string or null');
  }
  if (typeof access.deleted !== 'boolean') throw new RangeError('access.deleted must be a boolean');
}

/** Checks listBacklog's limit (a programmer error, not bad input). */
export function checkBacklogLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`backlog limit must be a positive integer, got ${limit}`);
}
