/**
 * Writes one document's updates to storage: in order, one batch at a time, retrying forever on
 * failure (with back-off) and never dropping an update — except when storage says the document
 * was deleted (DocumentDeletedError), which is final: nothing of it may be stored again. Compacts the log into a snapshot now and
 * then. The room stays in memory until this reports idle, so a failed save never loses data
 * (y-websocket-server's closeConn drops the doc before its write finishes: the bug class to avoid).
 */
import type { Logger } from 'pino';
import { DocumentDeletedError, type DirtyOptions, type DocumentStore } from '../storage/DocumentStore';
import type { Metrics } from '../metrics';
import type { ChangeOrigin } from './origins';

export interface PendingUpdate {
  update: Uint8Array;
  origin: ChangeOrigin;
}

export interface SaverOptions {
  /** Compact after this many appended updates since the last snapshot. */
  compactAfterUpdates: number;
  /** …or after this many appended bytes. */
  compactAfterBytes: number;
  /** First retry delay after a failed write; doubles up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /**
   * A document's updates are written together, at most this long after the first of them
   * arrived (at once when someone waits for the saver to be idle: shutdown, unload). 0 or
   * absent: at the end of the event-loop turn they arrived in.
   */
  writeDelayMs?: number;
}

export const DEFAULT_SAVER_OPTIONS: SaverOptions = {
  compactAfterUpdates: 1000,
  compactAfterBytes: 4 * 1024 * 1024,
  retryDelayMs: 100,
  maxRetryDelayMs: 10_000,
  // One SQLite transaction costs about as much as relaying an update to twenty clients; a
  // typist sends ~10 updates a second, so this stores a handful per transaction.
  writeDelayMs: 50,
};

export interface SaverHooks {
  /** The full current state of the document, for compaction. */
  snapshot(): Uint8Array;
  /** The document's state vector now, taken as a batch is formed (it then describes exactly what the batch completes). */
  stateVector?(): Uint8Array | null;
  /**
   * The highest sequence number the snapshot may replace through: with other writers on the same
   * storage, entries they appended may not be in the document yet (see RoomListener.compactableThrough).
   */
  compactableThrough?(): number;
  /**
   * Asked before compacting, when other instances may compact the same document: resolves with
   * the function that lets go, or null to skip this compaction (another instance is at it).
   * Undefined: no lease needed. The lease only saves work; compaction is safe without it.
   */
  compactionLease?(): Promise<(() => void) | null> | undefined;
  /** Options for the batch's append: which peer regions it makes dirty (see originPolicy). */
  appendOptions?(batch: PendingUpdate[]): DirtyOptions | undefined;
  /** Called after a batch is durably stored, with the state vector of everything stored. */
  onSaved?(batch: PendingUpdate[], lastSeq: number, storedStateVector: Uint8Array | null): void;
  /**
   * Called once when storage refused a write because the document was deleted (by another
   * server, or between a deletion and its room's unload). The saver has stopped for good.
   */
  onDeleted?(): void;
}

export class DocumentSaver {
  private pending: PendingUpdate[] = [];
  private writing = false;
  /** A write is due at the end of this turn. */
  private scheduled = false;
  /** A write is due when this fires (writeDelayMs after the oldest pending update arrived). */
  private delayTimer: NodeJS.Timeout | null = null;
  /** When the oldest update not yet being written arrived (performance.now()), or null. */
  private pendingSince: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private updatesSinceSnapshot = 0;
  private bytesSinceSnapshot = 0;
  private idleWaiters: (() => void)[] = [];
  /** Updates ever queued, and how many of them are stored: they are stored in queue order. */
  private queuedCount = 0;
  private storedCount = 0;
  /** Callbacks waiting for everything queued before them to be stored, oldest first. */
  private storedWaiters: { through: number; callback: () => void }[] = [];
  private stopped = false;
  /** Storage said the document is deleted: everything queued is dropped, and so is anything new. */
  private deleted = false;
  /** Sequence number of the newest stored entry. */
  lastSeq: number;

  constructor(
    private readonly docId: string,
    private readonly store: DocumentStore,
    private readonly hooks: SaverHooks,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    stored: { lastSeq: number; entries: number; bytes: number },
    private readonly options: SaverOptions = DEFAULT_SAVER_OPTIONS,
  ) {
    this.lastSeq = stored.lastSeq;
    // Entries already in the log count toward the compaction thresholds, so a long log is
    // compacted after fewer new saves (not at once: loading alone writes nothing).
    this.updatesSinceSnapshot = stored.entries > 1 ? stored.entries : 0;
    this.bytesSinceSnapshot = stored.entries > 1 ? stored.bytes : 0;
    this.retryDelay = options.retryDelayMs;
  }

  /** Queues an update for storage: written with the others that arrive within writeDelayMs. */
  enqueue(update: Uint8Array, origin: ChangeOrigin): void {
    if (this.deleted) return;
    this.pending.push({ update, origin });
    this.queuedCount++;
    this.pendingSince ??= performance.now();
    this.schedule();
  }

  /** True when the store reported the document deleted: the saver has stopped and holds nothing. */
  get documentDeleted(): boolean {
    return this.deleted;
  }

  /** True when nothing is queued, being written or waiting for a retry. */
  get idle(): boolean {
    return this.pending.length === 0 && !this.writing && !this.scheduled && this.delayTimer === null && this.retryTimer === null;
  }

  /** Resolves once everything queued so far (and since) is stored. Waits through retries, not through the write delay. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    if (this.delayTimer !== null) this.scheduleNow();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Calls `callback` once every update queued so far is durably stored: at once if it already
   * is, else after the batch that stores the last of them (waiting through retries).
   */
  afterQueuedStored(callback: () => void): void {
    if (this.storedCount >= this.queuedCount) callback();
    else this.storedWaiters.push({ through: this.queuedCount, callback });
  }

  /** Compacts now if anything was appended since the last snapshot (used before unloading). */
  async compactIfNeeded(): Promise<void> {
    if (this.updatesSinceSnapshot > 1 && this.idle && !this.deleted) await this.compact();
  }

  /** Stops retry timers; pending data is abandoned only if the caller gave up on it. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = null;
  }

  /**
   * Writes at the end of this turn once the oldest pending update has waited writeDelayMs, else
   * when it will have. A document that keeps receiving updates gets its write in the turn of a
   * later update, without a wake-up of its own.
   */
  private schedule(): void {
    if (this.scheduled || this.writing || this.retryTimer || this.stopped || this.pending.length === 0) return;
    const delay = this.options.writeDelayMs ?? 0;
    const waited = this.pendingSince === null ? 0 : performance.now() - this.pendingSince;
    if (waited >= delay) {
      this.scheduleNow();
      return;
    }
    this.delayTimer ??= setTimeout(() => {
      this.delayTimer = null;
      this.scheduleNow();
    }, delay - waited);
  }

  /** Writes at the end of this turn (setImmediate: every update of the turn in one transaction). */
  private scheduleNow(): void {
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    if (this.scheduled || this.writing || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0 && !this.stopped) {
        const batch = this.pending;
        const batchSince = this.pendingSince;
        this.pending = [];
        this.pendingSince = null;
        // Every update the document has integrated is either stored already or in this batch.
        const batchStateVector = this.hooks.stateVector?.() ?? null;
        const started = performance.now();
        try {
          this.lastSeq = await this.store.append(this.docId, batch.map((p) => p.update), this.hooks.appendOptions?.(batch));
        } catch (err) {
          this.metrics.saved((performance.now() - started) / 1000, false);
          if (err instanceof DocumentDeletedError) {
            this.stopDeleted(batch.length);
            break; // and tell whoever waits for idle: nothing is left to store
          }
          this.pending = batch.concat(this.pending);
          this.pendingSince = batchSince;
          this.log.error({ err, docId: this.docId, updates: batch.length, retryInMs: this.retryDelay }, 'save failed; keeping the document in memory and retrying');
          this.retryLater();
          return;
        }
        this.metrics.saved((performance.now() - started) / 1000, true);
        this.retryDelay = this.options.retryDelayMs;
        this.updatesSinceSnapshot += batch.length;
        for (const p of batch) this.bytesSinceSnapshot += p.update.byteLength;
        this.storedCount += batch.length;
        this.hooks.onSaved?.(batch, this.lastSeq, batchStateVector);
        this.notifyStored();
        if (
          this.updatesSinceSnapshot >= this.options.compactAfterUpdates ||
          this.bytesSinceSnapshot >= this.options.compactAfterBytes
        ) {
          await this.compact();
        }
      }
    } finally {
      this.writing = false;
    }
    if (this.idle) this.notifyIdle();
  }

  private async compact(): Promise<void> {
    const lease = this.hooks.compactionLease?.();
    const release = lease ? await lease : () => {};
    if (release === null) {
      // Another instance is compacting this document: its snapshot will do for now.
      this.updatesSinceSnapshot = 0;
      this.bytesSinceSnapshot = 0;
      return;
    }
    try {
      // Unloaded or deleted while the lease was asked for: its document is gone, snapshot nothing.
      if (this.stopped || this.deleted) return;
      // Read with the snapshot, in the same turn: everything through it is in the document now.
      const throughSeq = Math.min(this.lastSeq, this.hooks.compactableThrough?.() ?? Infinity);
      if (throughSeq <= 0) return;
      await this.store.compact(this.docId, this.hooks.snapshot(), throughSeq);
      this.updatesSinceSnapshot = 0;
      this.bytesSinceSnapshot = 0;
      this.metrics.compacted();
      this.log.debug({ docId: this.docId, throughSeq }, 'compacted');
    } catch (err) {
      // Not fatal: the log is still complete; we try again after the next batch.
      this.log.warn({ err, docId: this.docId }, 'compaction failed; the update log stays as it is');
    } finally {
      release();
    }
  }

  /**
   * A deleted document is final: retrying would fail forever and keep its room in memory with
   * clients editing a tombstone (issue #11). Drop what is queued and tell the owner.
   */
  private stopDeleted(batchUpdates: number): void {
    const dropped = batchUpdates + this.pending.length;
    this.deleted = true;
    this.stop();
    this.pending = [];
    this.pendingSince = null;
    // Nothing will be stored: these acknowledgements must never be sent.
    this.storedWaiters = [];
    this.log.warn({ docId: this.docId, dropped }, 'storage says the document was deleted; dropping its unsaved updates');
    this.hooks.onDeleted?.();
  }

  private retryLater(): void {
    // Stopped (unloaded, or shut down past the grace period): whoever stopped us gave up on this data.
    if (this.stopped) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.maxRetryDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, delay);
  }

  private notifyStored(): void {
    let done = 0;
    while (done < this.storedWaiters.length && this.storedWaiters[done]!.through <= this.storedCount) done++;
    if (done === 0) return;
    for (const { callback } of this.storedWaiters.splice(0, done)) callback();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
