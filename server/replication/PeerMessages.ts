/**
 * What a region does with a peer's replication messages (one link's messages for one document
 * arrive here in order, see SerialByKey): apply its changes and presence, merge its access state,
 * answer its state requests. Also what catch-up reads of a document (`hold`) and merges.
 */
import type { Logger } from 'pino';
import { mergeAccess, sameAccess, INITIAL_ACCESS, type AccessState } from '../../lib/auth/capabilities';
import { documentDigest } from '../../lib/protocol/documentDigest';
import { isDocId } from '../../lib/ids';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Relay } from '../relay/Relay';
import type { HeldDocument } from './CatchUp';
import type { PeerLink } from './PeerLink';
import type { DocumentState, ReplicationMessage } from './replicationFrames';
import { EMPTY_STATE, encodeState } from './stateCoverage';

export class PeerMessages {
  constructor(
    private readonly relay: Relay,
    private readonly store: DocumentStore,
    private readonly log: Logger,
    /** Brings a loaded document up to what the region's storage holds (ReplicatorOptions.readStored). */
    private readonly readStored?: (docId: string) => Promise<void>,
  ) {}

  async receive(link: PeerLink, message: ReplicationMessage): Promise<void> {
    if (!isDocId(message.docId)) {
      this.log.error({ peer: link.region }, 'replication frame names an invalid document id; ignored');
      return;
    }
    try {
      switch (message.type) {
        case 'update':
          await this.applyUpdate(link, message.docId, message.update);
          return;
        case 'presence':
          this.relay.loadedRoom(message.docId)?.applyRemotePresence(link.origin, message.update);
          return;
        case 'access':
          await this.mergeAccess(link, message.docId, message.access);
          return;
        case 'state':
          await this.answerState(link, message);
          return;
        case 'stateReply':
          return;
      }
    } catch (err) {
      this.log.error({ err, peer: link.region, docId: message.docId, type: message.type }, 'could not handle a replication message');
    }
  }

  private async applyUpdate(link: PeerLink, docId: string, update: Uint8Array): Promise<void> {
    if ((await this.store.getDocument(docId))?.access.deleted) return;
    const { room, release } = await this.relay.openDocument(docId);
    try {
      room.applyRemoteUpdate(link.origin, update);
    } finally {
      release();
    }
  }

  /** A peer's access merged with ours; connections whose link was rotated away (or deleted) close. */
  async mergeAccess(link: PeerLink, docId: string, incoming: AccessState): Promise<AccessState> {
    const before = (await this.store.getDocument(docId))?.access ?? INITIAL_ACCESS;
    const merged = await this.store.updateAccess(docId, (current) => mergeAccess(current, incoming));
    if (sameAccess(before, merged)) return merged;
    if (merged.deleted && !before.deleted) this.relay.documentDeleted(docId, link.region);
    else this.relay.accessChanged(docId, merged, link.region);
    return merged;
  }

  /** What we hold of a document now, for a state request or reply; opens it until release(). */
  async hold(docId: string): Promise<HeldDocument> {
    const access = (await this.store.getDocument(docId))?.access ?? INITIAL_ACCESS;
    if (access.deleted) return { access, doc: null, state: EMPTY_STATE, digest: new Uint8Array(0), release: () => undefined };
    const { room, release } = await this.relay.openDocument(docId);
    try {
      await this.readStored?.(docId);
    } catch (err) {
      release();
      throw err;
    }
    return { access, doc: room.doc, state: encodeState(room.doc), digest: documentDigest(room.doc), release };
  }

  /**
   * A peer asks what we hold: answer with what our storage holds. (What the peer lacks of ours
   * our own catch-up sends, from our backlog; answering with it here too would send it twice.)
   */
  private async answerState(link: PeerLink, request: DocumentState): Promise<void> {
    await this.mergeAccess(link, request.docId, request.access);
    // Read the state first (hold: after every update this link sent before the request), then
    // wait until everything applied so far is stored: the reply never claims a change this
    // region could still lose in a crash. The wait is off the link's queue for this document,
    // so live updates behind the request are not held up by a storage write.
    const ours = await this.hold(request.docId);
    void this.replyOnceStored(link, request, ours);
  }

  private async replyOnceStored(link: PeerLink, request: DocumentState, ours: HeldDocument): Promise<void> {
    try {
      const room = ours.doc ? this.relay.loadedRoom(request.docId) : undefined;
      if (room) await new Promise<void>((resolve) => room.saver.afterQueuedStored(resolve));
      link.send({ type: 'stateReply', docId: request.docId, request: request.request, state: ours.state, digest: ours.digest, access: ours.access });
    } finally {
      ours.release();
    }
  }
}
