/**
 * A document's versions, read and written through its history document (lib/history/versionModel.ts):
 * the recorder, the versions API and restore all come here. The history document is a room like
 * any other, opened without connections, changed with SERVER_ORIGIN: so it is stored, published
 * to the other instances, sent to peer regions and caught up after a partition by the machinery
 * every document uses, and after a partition heals every region lists the same versions.
 */
import * as Y from 'yjs';
import { newDocId } from '../../lib/ids';
import { allAuthors, type Author } from '../../lib/documents/authors';
import {
  chainLength,
  getVersion,
  historyDocId,
  listVersions,
  versionDoc,
  versionsMap,
  type Deletions,
  type VersionKind,
  type VersionRecord,
} from '../../lib/history/versionModel';
import { SERVER_ORIGIN } from '../relay/origins';
import type { Relay } from '../relay/Relay';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Logger } from '../log';
import { HOUR_MS, versionsToRemove } from './retention';
import { deletedRanges, diffSince, type DeletedRanges } from '../../lib/history/deleteSets';

export interface VersionLogOptions {
  /** This server's region name, recorded with each version (null without regions). */
  region: string | null;
  /** Longest chain of diffs before a new keyframe (bounds the cost of rebuilding a version). */
  maxChain: number;
  now: () => number;
}

export const DEFAULT_VERSION_LOG_OPTIONS: VersionLogOptions = { region: null, maxChain: 256, now: Date.now };

export interface RecordRequest {
  kind: VersionKind;
  name: string | null;
  /**
   * An automatic version is skipped when the newest version already holds this state and was
   * made after this time (another instance recorded the same burst).
   */
  unchangedSince?: number;
  /** Who deleted what since the last version (the recorder's attribution). */
  deletions?: Deletions[];
}

export interface VersionView {
  record: VersionRecord;
  previous: VersionRecord | null;
  /** The version's content; null if its chain is broken (never expected). */
  content: Y.Doc | null;
}

export class VersionLog {
  /** Identifies this process's records, so diffs are only taken from them. */
  readonly recorderId = newDocId();
  private readonly options: VersionLogOptions;
  /** History documents this log writes, so their own changes are never recorded as versions. */
  private readonly historyIds = new Set<string>();
  private readonly deleting = new Set<string>();
  /**
   * The last version recorded from each document object, with its deletions: the only base a
   * diff is taken from, since that object is known to hold everything the version had (a
   * reloaded room is a new object and starts with a keyframe).
   */
  private readonly lastRecorded = new WeakMap<Y.Doc, { id: string; deleted: DeletedRanges }>();

  constructor(
    private readonly relay: Relay,
    private readonly store: DocumentStore,
    private readonly log: Logger,
    options: Partial<VersionLogOptions> = {},
  ) {
    this.options = { ...DEFAULT_VERSION_LOG_OPTIONS, ...options };
    // A deleted document's history goes with it, wherever the deletion was made.
    relay.onAccessChanged((docId, access) => {
      if (access.deleted && !this.isHistoryDocument(docId)) void this.removeHistory(docId);
    });
  }

  /** True for a history document this log knows (its changes are not a document's edits). */
  isHistoryDocument(docId: string): boolean {
    return this.historyIds.has(docId) || this.deleting.has(docId);
  }

  /** The document's versions, oldest first. */
  async list(docId: string): Promise<VersionRecord[]> {
    return this.withHistory(docId, (history) => listVersions(history));
  }

  /** One version with the one before it and its content; null if unknown. */
  async view(docId: string, versionId: string): Promise<VersionView | null> {
    return this.withHistory(docId, (history) => {
      const record = getVersion(history, versionId);
      if (!record) return null;
      const all = listVersions(history);
      const index = all.findIndex((r) => r.id === versionId);
      return { record, previous: index > 0 ? all[index - 1]! : null, content: versionDoc(history, record) };
    });
  }

  /**
   * Records `doc`'s current state as a version and applies retention; returns the record, or
   * null when an automatic version was skipped as already recorded.
   */
  async record(docId: string, doc: Y.Doc, request: RecordRequest): Promise<VersionRecord | null> {
    const historyId = historyDocId(docId);
    this.historyIds.add(historyId);
    const { room, release } = await this.relay.openDocument(historyId);
    try {
      const history = room.doc;
      const all = listVersions(history);
      const newest = all.at(-1) ?? null;
      const stateVector = Y.encodeStateVector(doc);
      if (request.kind === 'auto' && newest && request.unchangedSince !== undefined && newest.createdAt >= request.unchangedSince && equalBytes(newest.stateVector, stateVector)) {
        return null;
      }
      const now = this.options.now();
      const base = request.kind === 'auto' ? this.diffBase(history, all, doc, now) : null;
      const deleted = deletedRanges(doc);
      const update = base ? (diffSince(doc, base.record.stateVector, base.deleted, deleted) ?? Y.encodeStateAsUpdate(doc, base.record.stateVector)) : Y.encodeStateAsUpdate(doc);
      const record: VersionRecord = {
        id: newDocId(),
        kind: request.kind,
        name: request.name,
        createdAt: now,
        region: this.options.region,
        authors: withDeleters(authorsSince(doc, newest?.stateVector ?? null), request.deletions ?? []),
        recorder: this.recorderId,
        base: base?.record.id ?? null,
        stateVector,
        update,
        ...(request.deletions && request.deletions.length > 0 ? { deletions: request.deletions } : {}),
      };
      const removed = versionsToRemove([...all, record], now);
      const ok = room.change(SERVER_ORIGIN, (h) => {
        const versions = versionsMap(h);
        versions.set(record.id, record);
        for (const id of removed) versions.delete(id);
      });
      if (!ok) throw new Error(`recording a version of ${docId} failed`);
      this.lastRecorded.set(doc, { id: record.id, deleted });
      if (removed.length > 0) this.log.debug({ docId, removed: removed.length }, 'retention removed versions');
      return record;
    } finally {
      release();
    }
  }

  /** Deletes a deleted document's history for good (idempotent). */
  private async removeHistory(docId: string): Promise<void> {
    const historyId = historyDocId(docId);
    this.deleting.add(historyId);
    try {
      await this.store.updateAccess(historyId, (current) => ({ ...current, deleted: true }), this.relay.accessChangeOptions());
      this.relay.documentDeleted(historyId);
    } catch (err) {
      this.log.error({ err, docId }, 'could not delete the history of a deleted document');
    } finally {
      this.deleting.delete(historyId);
    }
  }

  /**
   * The version to take a diff from: the last one recorded from this very document object, if
   * still there, in the same hour (so each hour starts with a keyframe, which
   * retention keeps) and with a short enough chain. A diff carries the content added since and
   * only the deletions made since.
   */
  private diffBase(history: Y.Doc, all: VersionRecord[], doc: Y.Doc, now: number): { record: VersionRecord; deleted: DeletedRanges } | null {
    const last = this.lastRecorded.get(doc);
    if (!last) return null;
    const candidate = all.find((r) => r.id === last.id);
    // lastRecorded is this log's own: the candidate is always this process's record.
    if (!candidate) return null;
    if (Math.floor(candidate.createdAt / HOUR_MS) !== Math.floor(now / HOUR_MS)) return null;
    return chainLength(history, candidate) < this.options.maxChain ? { record: candidate, deleted: last.deleted } : null;
  }

  private async withHistory<T>(docId: string, read: (history: Y.Doc) => T): Promise<T> {
    const historyId = historyDocId(docId);
    this.historyIds.add(historyId);
    const { room, release } = await this.relay.openDocument(historyId);
    try {
      return read(room.doc);
    } finally {
      release();
    }
  }
}

/** The authors of the clients whose history advanced since `since` (every client when null). */
function authorsSince(doc: Y.Doc, since: Uint8Array | null): Author[] {
  const before = since ? Y.decodeStateVector(since) : new Map<number, number>();
  const known = allAuthors(doc);
  const result: Author[] = [];
  const seen = new Set<string>();
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
    if (clock <= (before.get(client) ?? 0)) continue;
    const author = known.get(client);
    if (!author) continue;
    const key = `${author.name}\0${author.color}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(author);
  }
  return result;
}

/** `authors` and then whoever only deleted (someone who deletes edits too). */
function withDeleters(authors: Author[], deletions: Deletions[]): Author[] {
  const result = [...authors];
  for (const { author } of deletions) {
    if (!result.some((a) => a.name === author.name && a.color === author.color)) result.push(author);
  }
  return result;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
