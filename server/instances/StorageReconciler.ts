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
import { holdsAll } from './documentCoverage';
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

  /** One read of what was stored since we last looked; concurrent calls share it (and one more after it). */
  entries(tracked: TrackedDocument): Promise<void> {
    if (tracked.reconciling) {
      tracked.reconcileAgain = true;
      return tracked.reconciling;
    }
    tracked.reconciling = (async () => {
      do {
        tracked.reconcileAgain = false;
        await this.readEntries(tracked);
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

  private async readEntries(tracked: TrackedDocument): Promise<void> {
    const room = tracked.room;
    if (!room || room.isDestroyed) return;
    const since = await this.store.loadSince(tracked.docId, tracked.storedThrough);
    if (tracked.room !== room || room.isDestroyed || since.updates.length === 0) return;
    // Usually the bus brought all of it already: one merged update, and only what the document
    // lacks of it (structs it does not hold, deletions it has not applied) goes in.
    const stored = since.updates.length === 1 ? since.updates[0]! : Y.mergeUpdates(since.updates);
    if (!holdsAll(room.doc, stored)) {
      room.applyRemoteUpdate(STORAGE_ORIGIN, Y.diffUpdate(stored, Y.encodeStateVector(room.doc)));
      this.recovered++;
      // Stored entries depend only on entries stored before them, so this applies whole; were it
      // left waiting, a compaction through it could drop it: do not move past it.
      if (!holdsAll(room.doc, stored)) {
        this.log.warn({ docId: tracked.docId, afterSeq: tracked.storedThrough }, 'stored entries could not be applied yet; reading them again on the next pass');
        return;
      }
    }
    tracked.storedThrough = Math.max(tracked.storedThrough, since.lastSeq);
  }
}
