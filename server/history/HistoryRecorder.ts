/**
 * Records automatic versions (issue #16, item 1): after a burst of edits, when a document has
 * been quiet for `quietMs`, or every `everyChanges` changes while the editing goes on. A room
 * listener of destination 'history', so originPolicy hands it exactly the edits made on this
 * server (its clients', its own restores): another instance's or region's edits become versions
 * there, and arrive here as their history document's changes.
 *
 * The hot path only counts: a timer sweeps the documents with unrecorded changes.
 */
import * as Y from 'yjs';
import { authorOf } from '../../lib/documents/authors';
import { encodeDeletedRanges } from '../../lib/history/deleteSets';
import type { Deletions } from '../../lib/history/versionModel';
import type { ChangeOrigin } from '../relay/origins';
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
  /**
   * Each connection's updates since the last version, to tell at recording time who deleted
   * what (Yjs records no deleter); null once they outgrew ATTRIBUTION_BYTES (attribution is then
   * skipped for this version, nothing else).
   */
  byConnection: Map<number, Uint8Array[]> | null;
  bytes: number;
  /** The room the updates were applied to (its connections' clients are learned per room). */
  room: Room;
}

/** Most update bytes kept per document between two versions for attributing deletions. */
const ATTRIBUTION_BYTES = 4 * 1024 * 1024;

export class HistoryRecorder implements RoomListener {
  readonly destination = 'history' as const;
  private readonly options: HistoryRecorderOptions;
  private readonly unrecorded = new Map<string, Unrecorded>();
  private readonly recording = new Set<string>();
  /** The Yjs client each connection writes with, per room (learned from its updates). */
  private readonly connectionClients = new WeakMap<Room, Map<number, number>>();
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

  onChange(room: Room, update: Uint8Array, origin: ChangeOrigin): void {
    if (this.versions.isHistoryDocument(room.docId)) return;
    const now = this.options.now();
    let entry = this.unrecorded.get(room.docId);
    if (entry) {
      entry.changes++;
      entry.lastChangeAt = now;
    } else {
      entry = { changes: 1, lastChangeAt: now, byConnection: new Map(), bytes: 0, room };
      this.unrecorded.set(room.docId, entry);
    }
    if (origin.kind !== 'client' || entry.byConnection === null) return;
    entry.bytes += update.byteLength;
    if (entry.bytes > ATTRIBUTION_BYTES) {
      entry.byConnection = null;
      return;
    }
    const list = entry.byConnection.get(origin.connectionId);
    if (list) list.push(update);
    else entry.byConnection.set(origin.connectionId, [update]);
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
    entry.bytes = 0;
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
        bytes: 0,
        room: entry.room,
      });
    } finally {
      this.recording.delete(docId);
    }
  }

  /**
   * Who deleted what since the last version: each connection's updates merged, their delete set
   * attributed to the author of the Yjs client that connection writes with (learned from the
   * structs it sends; a connection that only deleted since the last version is known from
   * earlier). Off the editing path: runs once per version.
   */
  private deletionsOf(room: Room, entry: Unrecorded): Deletions[] {
    if (!entry.byConnection || entry.byConnection.size === 0) return [];
    let clients = this.connectionClients.get(entry.room);
    if (!clients) this.connectionClients.set(entry.room, (clients = new Map()));
    const byAuthor = new Map<string, Deletions & { updates: Uint8Array[] }>();
    for (const [connectionId, updates] of entry.byConnection) {
      try {
        const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
        const { structs, ds } = Y.decodeUpdate(merged);
        const writer = mostWrittenClient(structs);
        if (writer !== null) clients.set(connectionId, writer);
        const client = writer ?? clients.get(connectionId);
        if (ds.clients.size === 0 || client === undefined) continue;
        const author = authorOf(room.doc, client);
        if (!author) continue;
        const key = `${author.name}\0${author.color}`;
        const known = byAuthor.get(key);
        if (known) known.updates.push(merged);
        else byAuthor.set(key, { author, ranges: encodeDeletedRanges(ds.clients), updates: [merged] });
      } catch (err) {
        this.log.warn({ err, docId: room.docId }, 'could not attribute deletions for a version');
      }
    }
    return Array.from(byAuthor.values(), ({ author, ranges, updates }) =>
      updates.length === 1 ? { author, ranges } : { author, ranges: encodeDeletedRanges(Y.decodeUpdate(Y.mergeUpdates(updates)).ds.clients) },
    );
  }
}

/** The client with the most new content in `structs` (a connection writes its own), or null. */
function mostWrittenClient(structs: readonly (Y.Item | Y.GC | Y.Skip)[]): number | null {
  const lengths = new Map<number, number>();
  for (const struct of structs) if (struct instanceof Y.Item) lengths.set(struct.id.client, (lengths.get(struct.id.client) ?? 0) + struct.length);
  let best: number | null = null;
  for (const [client, length] of lengths) if (best === null || length > lengths.get(best)!) best = client;
  return best;
}
