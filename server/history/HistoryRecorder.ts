/**
 * Records automatic versions (issue #16, item 1): after a burst of edits, when a document has
 * been quiet for `quietMs`, or every `everyChanges` changes while the editing goes on. A room
 * listener of destination 'history', so originPolicy hands it exactly the edits made on this
 * server (its clients', its own restores): another instance's or region's edits become versions
 * there, and arrive here as their history document's changes.
 *
 * The hot path only counts: a timer sweeps the documents with unrecorded changes.
 */
import { authorOf, type Author } from '../../lib/documents/authors';
import { encodeDeletedRanges, type DeletedRanges } from '../../lib/history/deleteSets';
import type { Deletions } from '../../lib/history/versionModel';
import type { ChangeOrigin } from '../relay/origins';
import type { Room } from '../relay/Room';
import type { DeletedItems, RoomListener } from '../relay/RoomListener';
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
  /**
   * What each connection's changes deleted since the last version (their transactions' delete
   * sets), to tell who deleted what (Yjs records no deleter); null once they outgrew
   * ATTRIBUTION_RANGES (attribution is then skipped for this version, nothing else).
   */
  byConnection: Map<ChangeOrigin, DeletedItems[]> | null;
  ranges: number;
  /** The room the updates were applied to (its connections' clients are learned per room). */
  room: Room;
}

/** Most deleted ranges kept per document between two versions for attributing deletions. */
const ATTRIBUTION_RANGES = 200_000;

export class HistoryRecorder implements RoomListener {
  readonly destination = 'history' as const;
  private readonly options: HistoryRecorderOptions;
  private readonly unrecorded = new Map<string, Unrecorded>();
  private readonly recording = new Set<string>();
  /** The Yjs client each connection writes with (its origin is one object per connection). */
  private readonly writerClients = new WeakMap<ChangeOrigin, number>();
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

  onChange(room: Room, _update: Uint8Array, origin: ChangeOrigin, deleted?: DeletedItems): void {
    if (this.versions.isHistoryDocument(room.docId)) return;
    const now = this.options.now();
    let entry = this.unrecorded.get(room.docId);
    if (entry) {
      entry.changes++;
      entry.lastChangeAt = now;
    } else {
      entry = { changes: 1, lastChangeAt: now, byConnection: new Map(), ranges: 0, room };
      this.unrecorded.set(room.docId, entry);
    }
    if (origin.kind !== 'client') return;
    // Learnt while the connection is open (the room forgets what a closed connection wrote).
    if (!this.writerClients.has(origin)) {
      const client = room.writerClientOf(origin);
      if (client !== undefined) this.writerClients.set(origin, client);
    }
    if (!deleted || deleted.size === 0 || entry.byConnection === null) return;
    for (const items of deleted.values()) entry.ranges += items.length;
    if (entry.ranges > ATTRIBUTION_RANGES) {
      entry.byConnection = null;
      return;
    }
    const list = entry.byConnection.get(origin);
    if (list) list.push(deleted);
    else entry.byConnection.set(origin, [deleted]);
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
  /**
   * Who deleted what since the last version, for a version recorded elsewhere (a named one, or
   * "Before restore"): from now on the next version attributes only what follows.
   */
  takeDeletions(docId: string): Deletions[] {
    const entry = this.unrecorded.get(docId);
    if (!entry) return [];
    const deletions = this.deletionsOf(entry.room, entry);
    entry.byConnection = new Map();
    entry.ranges = 0;
    return deletions;
  }

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
        const deletions = this.deletionsOf(room, entry);
        const record = await this.versions.record(docId, room.doc, { kind: 'auto', name: null, unchangedSince: entry.lastChangeAt, deletions });
        if (record) this.recorded++;
      } finally {
        release();
      }
    } catch (err) {
      // Kept for the next sweep: a version is late, never lost for an edit that was made.
      this.failed++;
      this.log.error({ err, docId }, 'recording a version failed; retrying');
      const now = this.unrecorded.get(docId);
      this.unrecorded.set(docId, {
        changes: entry.changes + (now?.changes ?? 0),
        lastChangeAt: Math.max(entry.lastChangeAt, now?.lastChangeAt ?? 0),
        byConnection: null,
        ranges: 0,
        room: entry.room,
      });
    } finally {
      this.recording.delete(docId);
    }
  }

  /**
   * Who deleted what since the last version: each connection's deletions, joined, attributed to
   * the author of the Yjs client that connection writes with. Runs once per version, over the
   * deleted ranges only.
   */
  private deletionsOf(room: Room, entry: Unrecorded): Deletions[] {
    if (!entry.byConnection || entry.byConnection.size === 0) return [];
    const byAuthor = new Map<string, { author: Author; parts: DeletedItems[] }>();
    for (const [origin, parts] of entry.byConnection) {
      const client = this.writerClients.get(origin) ?? room.writerClientOf(origin);
      const author = client === undefined ? null : authorOf(room.doc, client);
      if (!author) continue;
      const key = `${author.name}\0${author.color}`;
      const known = byAuthor.get(key);
      if (known) known.parts.push(...parts);
      else byAuthor.set(key, { author, parts: [...parts] });
    }
    return Array.from(byAuthor.values(), ({ author, parts }) => ({ author, ranges: encodeDeletedRanges(joinRanges(parts)) }));
  }
}

/** The union of delete sets, per client sorted by clock and merged. */
function joinRanges(parts: readonly DeletedItems[]): DeletedRanges {
  const joined: DeletedRanges = new Map();
  for (const part of parts) {
    for (const [client, items] of part) {
      const list = joined.get(client);
      if (list) list.push(...items.map(({ clock, len }) => ({ clock, len })));
      else joined.set(client, items.map(({ clock, len }) => ({ clock, len })));
    }
  }
  for (const [client, items] of joined) {
    items.sort((a, b) => a.clock - b.clock);
    const merged: { clock: number; len: number }[] = [];
    for (const item of items) {
      const last = merged.at(-1);
      if (last && item.clock <= last.clock + last.len) last.len = Math.max(last.len, item.clock + item.len - last.clock);
      else merged.push({ ...item });
    }
    joined.set(client, merged);
  }
  return joined;
}
