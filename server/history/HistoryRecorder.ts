/**
 * Records automatic versions (issue #16, item 1): after a burst of edits, when a document has
 * been quiet for `quietMs`, or every `everyChanges` changes while the editing goes on. A room
 * listener of destination 'history', so originPolicy hands it exactly the edits made on this
 * server (its clients', its own restores): another instance's or region's edits become versions
 * there, and arrive here as their history document's changes.
 *
 * The hot path only counts: a timer sweeps the documents with unrecorded changes.
 */
import type { Room } from '../relay/Room';
import type { RoomListener } from '../relay/RoomListener';
import type { Relay } from '../relay/Relay';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Logger } from '../log';
import type { VersionLog } from './VersionLog';

export interface HistoryRecorderOptions {
  /** A version is recorded once a document has had no edit for this long. */
  quietMs: number;
  /** …or after this many changes since the last version, whichever comes first. */
  everyChanges: number;
  /** How often the documents with unrecorded changes are looked at. */
  sweepMs: number;
  now: () => number;
}

export const DEFAULT_HISTORY_RECORDER_OPTIONS: HistoryRecorderOptions = {
  quietMs: 3 * 60 * 1000,
  everyChanges: 1000,
  sweepMs: 1000,
  now: Date.now,
};

interface Unrecorded {
  changes: number;
  lastChangeAt: number;
}

export class HistoryRecorder implements RoomListener {
  readonly destination = 'history' as const;
  private readonly options: HistoryRecorderOptions;
  private readonly unrecorded = new Map<string, Unrecorded>();
  private readonly recording = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Versions recorded since start, and failed attempts (for tests and /metrics). */
  recorded = 0;
  failed = 0;

  constructor(
    private readonly relay: Relay,
    private readonly store: DocumentStore,
    private readonly versions: VersionLog,
    private readonly log: Logger,
    options: Partial<HistoryRecorderOptions> = {},
  ) {
    this.options = { ...DEFAULT_HISTORY_RECORDER_OPTIONS, ...options };
    this.timer = setInterval(() => this.sweep(), this.options.sweepMs);
    this.timer.unref();
    relay.addRoomListener(this);
  }

  onChange(room: Room, _update: Uint8Array, _origin: unknown): void {
    if (this.versions.isHistoryDocument(room.docId)) return;
    const entry = this.unrecorded.get(room.docId);
    const now = this.options.now();
    if (entry) {
      entry.changes++;
      entry.lastChangeAt = now;
    } else {
      this.unrecorded.set(room.docId, { changes: 1, lastChangeAt: now });
    }
  }

  /** Documents with edits not yet in a version. */
  get pendingDocuments(): number {
    return this.unrecorded.size;
  }

  /**
   * Stops recording. Edits not yet in a version stay out of history until the document's next
   * edit after a restart (their content is stored as always): recording at shutdown would add a
   * write to every shutdown, and to its report of what storage refused.
   */
  close(): void {
    clearInterval(this.timer);
    this.closed = true;
  }

  private sweep(): void {
    const now = this.options.now();
    for (const [docId, entry] of this.unrecorded) {
      if (now - entry.lastChangeAt >= this.options.quietMs || entry.changes >= this.options.everyChanges) void this.recordNow(docId);
    }
  }

  private async recordNow(docId: string): Promise<void> {
    const entry = this.unrecorded.get(docId);
    if (!entry || this.recording.has(docId) || this.closed) return;
    this.recording.add(docId);
    // Changes made while this version is written count towards the next one.
    this.unrecorded.delete(docId);
    try {
      const info = await this.store.getDocument(docId);
      if (info?.access.deleted) return;
      const { room, release } = await this.relay.openDocument(docId);
      try {
        const record = await this.versions.record(docId, room.doc, { kind: 'auto', name: null, unchangedSince: entry.lastChangeAt });
        if (record) this.recorded++;
      } finally {
        release();
      }
    } catch (err) {
      // Kept for the next sweep: a version is late, never lost for an edit that was made.
      this.failed++;
      this.log.error({ err, docId }, 'recording a version failed; retrying');
      const now = this.unrecorded.get(docId);
      this.unrecorded.set(docId, { changes: entry.changes + (now?.changes ?? 0), lastChangeAt: Math.max(entry.lastChangeAt, now?.lastChangeAt ?? 0) });
    } finally {
      this.recording.delete(docId);
    }
  }
}
