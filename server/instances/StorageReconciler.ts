/**
 * Storage is the truth between a region's instances: what the bus lost, storage has (the instance
 * that made a change stores it, and so does every instance that received it). This reads, for
 * one loaded document, what was stored since this instance last looked, and its access state,
 * and brings the room up to both.
 */
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { sameAccess, type AccessState } from '../../lib/auth/capabilities';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Relay } from '../relay/Relay';
import { STORAGE_ORIGIN } from '../relay/origins';
import { holdsAll, holdsEvery } from './documentCoverage';
import type { TrackedDocument } from './TrackedDocument';

export class StorageReconciler {
  /** Reads of storage that brought a document something the bus had lost. */
  recovered = 0;

  constructor(
    private readonly store: DocumentStore,
    private readonly relay: Relay,
    private readonly log: Logger,
    /** Relay.accessChanged's "from" for what this reads (see INSTANCE_ACCESS_SOURCE_PREFIX). */
    private readonly accessSource: string,
  ) {}

  /**
   * One read of what was stored since we last looked; concurrent calls share it (and one more
   * after it). `lossLikely`: something was lost (a gap, the bus down or back, a load), so what
   * storage has and the document lacks is recovered at once; else (the timer's read) only if it
   * is still lacking at the next read, since usually the bus is only a moment behind storage.
   */
  entries(tracked: TrackedDocument, lossLikely = true): Promise<void> {
    if (lossLikely) tracked.lossLikely = true;
    if (tracked.reconciling) {
      tracked.reconcileAgain = true;
      return tracked.reconciling;
    }
    tracked.reconciling = (async () => {
      do {
        tracked.reconcileAgain = false;
        const recoverNow = tracked.lossLikely;
        tracked.lossLikely = false;
        await this.readEntries(tracked, recoverNow);
      } while (tracked.reconcileAgain && tracked.isLive);
    })()
      .catch((err: unknown) => this.log.warn({ err, docId: tracked.docId }, 'could not read a document from storage; trying again on the next pass'))
      .finally(() => (tracked.reconciling = null));
    return tracked.reconciling;
  }

  /** Acts on the stored access state if it changed: closes revoked connections, or the deleted document. */
  async access(tracked: TrackedDocument): Promise<void> {
    const room = tracked.room;
    if (!room || room.isDestroyed) return;
    let info;
    try {
      info = await this.store.getDocument(tracked.docId);
    } catch (err) {
      this.log.warn({ err, docId: tracked.docId }, 'could not read a document\'s access from storage');
      return;
    }
    if (!info || tracked.room !== room || room.isDestroyed) return;
    const before = tracked.access;
    tracked.access = info.access;
    // The first read after a load checks every connection once: one may have been let in just
    // before a rotation whose message came before our subscription.
    if (before !== null && sameAccess(before, info.access)) return;
    if (info.access.deleted) this.relay.documentDeleted(tracked.docId, this.accessSource);
    else this.relay.accessChanged(tracked.docId, info.access, this.accessSource);
  }

  private async readEntries(tracked: TrackedDocument, recoverNow: boolean): Promise<void> {
    const room = tracked.room;
    if (!room || room.isDestroyed) return;
    const since = await this.store.loadSince(tracked.docId, tracked.storedThrough);
    if (tracked.room !== room || room.isDestroyed || since.updates.length === 0) return;
    // Usually the bus brought all of it already: checked entry by entry, without merging. Else
    // one merged update, and only what the document lacks of it (structs it does not hold,
    // deletions it has not applied) goes in.
    if (!holdsEvery(room.doc, since.updates)) {
      // A busy instance's bus runs behind its storage reads: recovering what the bus is about to
      // bring costs a merge, a diff and a second apply per document, and a loaded instance would
      // only get busier. With no sign of a loss, leave it one read more (not moving past it).
      if (!recoverNow && !tracked.behindStorage) {
        tracked.behindStorage = true;
        return;
      }
      const stored = since.updates.length === 1 ? since.updates[0]! : Y.mergeUpdates(since.updates);
      room.applyRemoteUpdate(STORAGE_ORIGIN, Y.diffUpdate(stored, Y.encodeStateVector(room.doc)));
      this.recovered++;
      // Stored entries depend only on entries stored before them, so this applies whole; were it
      // left waiting, a compaction through it could drop it: do not move past it.
      if (!holdsAll(room.doc, stored)) {
        this.log.warn({ docId: tracked.docId, afterSeq: tracked.storedThrough }, 'stored entries could not be applied yet; reading them again on the next pass');
        return;
      }
    }
    tracked.behindStorage = false;
    tracked.storedThrough = Math.max(tracked.storedThrough, since.lastSeq);
  }
}
