/**
 * One document in memory: its Y.Doc, its awareness (presence), the connections editing it and
 * the saver that stores its changes. Transport-agnostic: connections are RoomConnections.
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeAwarenessMessage, encodePermissionDenied, encodeSyncStep1 } from '../../lib/protocol/encode';
import { decodeClientClaim, type ClientClaim } from '../../lib/protocol/clientClaims';
import { DocumentSaver, DEFAULT_SAVER_OPTIONS } from './DocumentSaver';
import { roomSaverHooks } from './roomSaverHooks';
import { ConnectionError, ProtocolError } from './errors';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { assertPlacedBetweenNeighbours, assertWellFormedUpdate, hasPending, wouldChange, type ClientWrites } from './updateGuard';
import { UpdateAdmission, type RetryHandlers } from './UpdateAdmission';
import { ClaimedClientIds } from './ClaimedClientIds';
import { SERVER_ORIGIN, STORAGE_ORIGIN, type ChangeOrigin, type RemoteOrigin, type StorageOrigin } from './origins';
import { routes } from './originPolicy';
import type { RoomConnection } from './RoomConnection';
import type { DeletedItems } from './RoomListener';
import { concordMap, recordedSchemaVersion, schemaVersionRecordedBy } from '../../lib/documents/schemaVersion';
import { Fanout } from './Fanout';
import { DEFAULT_ROOM_LIMITS, type RoomDeps, type RoomLimits } from './RoomDeps';
import { StoredAcks } from './StoredAcks';
import { ReplicaDigest } from './ReplicaDigest';
import { RoomPresence } from './RoomPresence';
import { answerSyncStep1 } from './syncAnswer';
import { dispatchClientFrame, type ClientFrameHandler } from './clientFrames';
import { describeRemote } from './describeOrigin';
import { reportUntaggedChange } from './untaggedChanges';
import { EDITOR_OUTDATED_REASON, isOutdatedEditor } from './outdatedEditor';

export { DEFAULT_ROOM_LIMITS, DEFAULT_UNTAGGED_CHANGE_POLICY, type RoomDeps, type RoomLimits, type UntaggedChangePolicy } from './RoomDeps';

/** Updates one connection may have waiting for their dependencies (besides maxPendingBytes). */
const MAX_WAITING_UPDATES = 256;

export class Room {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly saver: DocumentSaver;
  private readonly connections = new Set<RoomConnection>();
  /** Who controls which presence, and where presence changes go. */
  private readonly presence: RoomPresence;
  private destroyed = false;
  /** Sends changes to the connections (batched when the relay gives a batcher). */
  private readonly fanout: Fanout;
  private readonly onDocUpdate: (update: Uint8Array, origin: unknown) => void;
  /** Stored acks and mark answers (Concord extension). */
  private readonly acks: StoredAcks;
  /** Digest checks (Concord extension version 2). */
  private readonly digest: ReplicaDigest;
  /** Stored size plus everything applied since; reset from the snapshot size on compaction. */
  private approxBytes: number;
  private readonly limits: RoomLimits;
  /** The origin of the change being made through `change`, and the updates it produced so far. */
  private changing: ChangeOrigin | null = null;
  private changed: Uint8Array[] = [];
  /** A change failed half-way: the document is waiting to be reloaded from storage. */
  private corrupted = false;
  /** When updates may enter the document: now, or once what they need arrives (UpdateAdmission). */
  private readonly admission: UpdateAdmission;
  /** Client ids editors claimed with a secret, and which connections proved theirs. */
  private readonly claimed: ClaimedClientIds;
  private readonly retryHandlers: RetryHandlers;
  /** What each kind of client frame does here (dispatchClientFrame decodes them). */
  private readonly frames: ClientFrameHandler;
  /** Holders besides connections (see hold). */
  private holds = 0;

  /** Loads a document from storage. Throws if the store does. */
  static async load(docId: string, deps: RoomDeps): Promise<Room> {
    const started = performance.now();
    try {
      const stored = await deps.store.load(docId);
      const doc = new Y.Doc({ gc: true });
      // One transaction for the whole log: observers and the update event fire once, not per entry.
      doc.transact(() => {
        for (const update of stored.updates) Y.applyUpdate(doc, update, STORAGE_ORIGIN);
      }, STORAGE_ORIGIN);
      deps.metrics.loaded((performance.now() - started) / 1000, true);
      return new Room(docId, doc, deps, { lastSeq: stored.lastSeq, entries: stored.updates.length, bytes: stored.bytes });
    } catch (err) {
      deps.metrics.loaded((performance.now() - started) / 1000, false);
      throw err;
    }
  }

  private constructor(
    readonly docId: string,
    doc: Y.Doc,
    private readonly deps: RoomDeps,
    stored: { lastSeq: number; entries: number; bytes: number },
  ) {
    this.doc = doc;
    this.limits = deps.limits ?? DEFAULT_ROOM_LIMITS;
    this.approxBytes = stored.bytes;
    this.awareness = new awarenessProtocol.Awareness(doc);
    // The server is not a participant: it has no presence of its own.
    this.awareness.setLocalState(null);
    this.fanout = new Fanout(this.connections, this.awareness, deps.metrics, deps.log, deps.batcher);
    this.presence = new RoomPresence(this, this.awareness, this.fanout, deps);
    // Listeners and hooks are closures made here, not arrow class fields or arrows in object
    // literals: tsx compiles with esbuild's keepNames, which renames those with
    // Object.defineProperty and so gives each one a property dictionary (~250 bytes apiece).
    const room = this;
    const hooks = roomSaverHooks(this, deps, {
      corrupted() {
        return room.corrupted;
      },
      snapshotTaken(bytes) {
        room.approxBytes = bytes;
      },
      stored(stateVector) {
        room.acks.acknowledge(stateVector);
      },
    });
    this.claimed = new ClaimedClientIds(doc);
    this.admission = new UpdateAdmission(
      doc,
      { maxPendingBytes: this.limits.maxPendingBytes, maxWaitingUpdates: MAX_WAITING_UPDATES },
      () => deps.metrics.updateWaiting(),
      this.claimed,
    );
    this.retryHandlers = {
      apply(origin, update, writes) {
        return room.change(origin, (d) => Y.applyUpdate(d, update, origin), writes);
      },
      invalid(origin, err) {
        // Checked once already; what it refers to exists now and shows it malformed.
        const reason = err instanceof Error ? err.message.slice(0, 120) : 'invalid update';
        for (const conn of room.connections) if (conn.origin === origin) conn.close(CloseCode.malformedMessage, reason);
        if (origin.kind !== 'client') room.deps.log.error({ err, docId: room.docId, from: describeRemote(origin) }, 'a waiting remote update is not valid; dropped');
      },
      drained(origin, marks) {
        for (const conn of room.connections) if (conn.origin === origin) for (const id of marks) room.acks.answerMark(conn, id);
      },
    };
    this.frames = {
      syncStep1(conn, stateVector) {
        room.send(conn, MessageType.sync, answerSyncStep1(room.doc, stateVector));
      },
      update(conn, update) {
        room.applyClientUpdate(conn, update);
      },
      presence(conn, decoder) {
        room.presence.receive(conn, decoder);
      },
      presenceQuery(conn) {
        room.send(conn, MessageType.awareness, encodeAwarenessMessage(room.awareness));
      },
      mark(conn, decoder) {
        room.acks.receiveMark(conn, decoder);
      },
      digestCheck(conn, message) {
        room.digest.receiveCheck(conn, message);
      },
      claim(conn, message) {
        room.receiveClaim(conn, message);
      },
    };
    this.onDocUpdate = (update, origin) => this.handleDocUpdate(update, origin);
    this.saver = new DocumentSaver(
      docId,
      deps.store,
      hooks,
      deps.log,
      deps.metrics,
      stored,
      deps.saverOptions ?? DEFAULT_SAVER_OPTIONS,
    );
    const send = (conn: RoomConnection, type: number, message: Uint8Array) => room.send(conn, type, message);
    this.acks = new StoredAcks(this.connections, this.saver, this.admission, send, Y.encodeStateVector(doc));
    this.digest = new ReplicaDigest(doc, docId, deps.log, deps.metrics, send);
    doc.on('update', this.onDocUpdate);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** True when no one is connected and every change is stored: safe to unload. */
  get unloadable(): boolean {
    return this.connections.size === 0 && this.holds === 0 && this.saver.idle;
  }

  /**
   * Keeps the room in memory without a connection (a region link applying a peer's changes, a
   * catch-up pass); returns the function that lets go. The owner decides when to unload.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  /**
   * A change from another region or another instance of this one (trusted, authenticated), or an
   * entry another instance appended to the storage we share: checked like a client's, applied
   * whole when it can be, else kept until what it needs arrives. Returns false when it was malformed.
   */
  applyRemoteUpdate(origin: RemoteOrigin | StorageOrigin, update: Uint8Array): boolean {
    let writes: ClientWrites | null;
    try {
      writes = this.admission.admit(origin, update, false);
    } catch (err) {
      this.deps.log.error({ err, docId: this.docId, from: describeRemote(origin) }, 'a remote update is not valid; dropped');
      return false;
    }
    if (writes === null) return true;
    if (!this.change(origin, (doc) => Y.applyUpdate(doc, update, origin), writes)) return false;
    this.admission.retry(this.retryHandlers);
    return true;
  }

  /** Forgets a peer's (or instance's) updates still waiting and its presence (its link dropped: catch-up sends what is missing). */
  forgetPeer(origin: RemoteOrigin): void {
    this.admission.forget(origin);
    this.presence.forget(origin);
  }

  /** Presence from a peer region's (or another instance's) clients. */
  applyRemotePresence(origin: RemoteOrigin, update: Uint8Array): void {
    this.presence.applyRemote(origin, update);
  }

  /** Adds a connection and starts the sync handshake (server's step 1, then current presence). */
  addConnection(conn: RoomConnection): void {
    if (this.destroyed) throw new Error(`room ${this.docId} is unloaded`);
    // Before anything of the document is sent: it holds content this editor would delete.
    if (isOutdatedEditor(conn, recordedSchemaVersion(this.doc))) {
      conn.close(CloseCode.editorOutdated, EDITOR_OUTDATED_REASON);
      return;
    }
    this.connections.add(conn);
    this.presence.track(conn.origin);
    this.send(conn, MessageType.sync, encodeSyncStep1(this.doc));
    if (this.awareness.getStates().size > 0) {
      this.send(conn, MessageType.awareness, encodeAwarenessMessage(this.awareness));
    }
    this.acks.greet(conn);
  }

  /** Removes a connection and the presence it controlled (its cursors disappear for everyone). */
  removeConnection(conn: RoomConnection): void {
    if (!this.connections.delete(conn)) return;
    // Its waiting updates go with it (the client sends them again in its next sync); the client
    // ids it wrote are free again, so updates that waited on them are checked anew.
    this.claimed.forget(conn.origin);
    if (this.admission.forget(conn.origin)) this.admission.retry(this.retryHandlers, true);
    this.presence.forget(conn.origin);
  }

  /**
   * Handles one incoming frame from a connection. Throws ProtocolError for a frame that is not
   * a valid message; the caller closes that connection.
   */
  receive(conn: RoomConnection, message: Uint8Array): void {
    dispatchClientFrame(conn, message, this.frames, this.deps.metrics);
  }

  /** Stops timers and listeners. Call only when `unloadable` (or at shutdown, after flushing). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.saver.stop();
    this.fanout.stop();
    this.doc.off('update', this.onDocUpdate);
    this.presence.stop();
    this.awareness.destroy();
    this.doc.destroy();
  }

  /**
   * The one way to change the document: runs `apply` in a transaction tagged with `origin` and
   * hands what it changed to fan-out and storage only if it completed. If it throws, nothing of it
   * leaves the room, and the room asks its owner to reload it from storage (the in-memory document
   * may hold part of the change). Returns false when the change failed.
   */
  change(origin: ChangeOrigin, apply: (doc: Y.Doc) => void, writes?: ClientWrites): boolean {
    if (this.changing !== null) throw new Error('Room.change is not re-entrant');
    if (this.destroyed) throw new Error(`room ${this.docId} is unloaded`);
    if (this.corrupted) return false;
    this.changing = origin;
    this.changed = [];
    let failure: unknown = null;
    const { pendingStructs, pendingDs } = this.doc.store;
    // The schema versions this change records (read before it: see schemaVersionRecordedBy).
    concordMap(this.doc);
    let schemaRecorded = null as number | null;
    let deleted: DeletedItems | undefined;
    try {
      this.doc.transact((transaction) => {
        // The transaction's own delete set (Yjs sorts and merges it when the transaction ends).
        deleted = transaction.deleteSet.clients;
        apply(this.doc);
        // Inside the transaction, before any update event: a failure here discards it all.
        assertPlacedBetweenNeighbours(transaction, writes?.keys());
        // Claims are the server's to write (updateGuard refuses the plain attempts up front;
        // this catches an overwrite or deletion of a claim however it was encoded).
        if (origin.kind === 'client' && transaction.changed.has(this.claimed.serverOnly.type)) {
          throw new ProtocolError('a client may not change the document\'s client-id claims');
        }
        schemaRecorded = schemaVersionRecordedBy(transaction, this.doc);
      }, origin);
      // Everything checked as complete must have integrated: data left waiting means the
      // document now differs from what its update events describe.
      if (hasPending(this.doc) && (this.doc.store.pendingStructs !== pendingStructs || this.doc.store.pendingDs !== pendingDs)) {
        failure = new Error('the change left data it could not integrate');
      }
    } catch (err) {
      failure = err;
    } finally {
      this.changing = null;
    }
    const updates = this.changed;
    this.changed = [];
    if (failure !== null) {
      // From now on the in-memory document is not what storage can reproduce: nothing more is
      // applied, compacted from it or acknowledged as stored on its word.
      this.corrupted = true;
      this.deps.log.error({ err: failure, docId: this.docId, origin: origin.kind }, 'a change failed half-way; nothing of it was relayed or stored; reloading the document from storage');
      this.deps.metrics.changeFailed();
      this.deps.onCorrupted?.(this);
      return false;
    }
    // Before any of it is forwarded: an editor older than what it records would delete what it
    // cannot map (issue #15).
    if (schemaRecorded !== null) this.closeOutdatedEditors(schemaRecorded);
    for (const update of updates) this.forward(update, origin, deleted);
    return true;
  }

  /** The Yjs client a connection writes with, once it has written (the history recorder's attribution). */
  writerClientOf(origin: ChangeOrigin): number | undefined {
    return this.admission.clientOf(origin);
  }

  /** Closes (4427) every editor whose declared schema is older than `recorded`. */
  private closeOutdatedEditors(recorded: number): void {
    const outdated = Array.from(this.connections).filter((conn) => isOutdatedEditor(conn, recorded));
    for (const conn of outdated) {
      conn.close(CloseCode.editorOutdated, EDITOR_OUTDATED_REASON);
      // A session leaves by itself when closed; no update of this change may reach one that did not.
      this.removeConnection(conn);
    }
  }

  /**
   * An editor's claim on a client id (lib/protocol/clientClaims.ts): proved, recorded in the
   * document as the server's own change, or left unclaimed. A view link writes nothing, so its
   * claims are ignored (an editor sends them whatever its link).
   */
  private receiveClaim(conn: RoomConnection, message: Uint8Array): void {
    let claim: ClientClaim;
    try {
      claim = decodeClientClaim(message)!;
    } catch (cause) {
      throw new ProtocolError('malformed client-id claim', { cause });
    }
    if (!conn.canEdit) return;
    const decision = this.claimed.decide(conn.origin, claim, this.admission.writtenByOther(conn.origin, claim.clientId));
    if (decision.kind === 'unclaimable') {
      this.deps.log.debug({ docId: this.docId, connectionId: conn.origin.connectionId, clientId: claim.clientId, reason: decision.reason }, 'client id left unclaimed');
      return;
    }
    if (decision.kind === 'record') {
      const claims = this.claimed.claimsMap;
      if (!this.change(SERVER_ORIGIN, () => claims.set(decision.key, decision.fingerprint))) return;
    }
    this.admission.own(conn.origin, claim.clientId);
    // Anything of this connection's that waited on the id (claimed elsewhere first) may go now.
    this.admission.retry(this.retryHandlers, true);
  }

  /** A change from a client: checked, bounded, applied whole or not at all, with the connection as its origin. */
  private applyClientUpdate(conn: RoomConnection, update: Uint8Array): void {
    if (!conn.canEdit) {
      assertWellFormedUpdate(update);
      // View-only: nothing is applied, stored or relayed. Tell the client if it tried to change anything.
      if (wouldChange(this.doc, update)) {
        this.deps.metrics.frameRejected();
        this.send(conn, MessageType.auth, encodePermissionDenied('This is a view-only link: changes are not saved.'));
      }
      return;
    }
    if (this.approxBytes + update.byteLength > this.limits.maxDocumentBytes) {
      throw new ConnectionError(CloseCode.documentTooLarge, 'the document has reached its size limit');
    }
    const writes = this.admission.admit(conn.origin, update, true);
    if (writes === null) return;
    if (!this.change(conn.origin, (doc) => Y.applyUpdate(doc, update, conn.origin), writes)) {
      throw new ProtocolError('update could not be applied');
    }
    this.admission.claim(conn.origin, writes);
    this.admission.retry(this.retryHandlers);
  }

  private handleDocUpdate(update: Uint8Array, origin: unknown): void {
    // Everything that happens while a change runs is part of it, including Yjs's own follow-up
    // transactions (Y.Text cleans up formatting after remote changes with no origin).
    if (this.changing !== null) {
      this.changed.push(update);
      return;
    }
    // Untagged (not made through `change`): stored and relayed all the same, and reported.
    this.forward(update, reportUntaggedChange(this.deps, this.docId, origin));
  }

  /** Sends a completed change to the other connections and queues it for storage. */
  private forward(update: Uint8Array, from: ChangeOrigin, deleted?: DeletedItems): void {
    this.digest.changed();
    // Fan-out goes first: it is sent as soon as this task is over, while the saver writes at the
    // end of the event-loop turn at the earliest, so the storage write never delays the relay.
    if (routes(from, 'clients')) this.fanout.update(update, from);
    if (routes(from, 'storage')) {
      this.saver.enqueue(update, from);
      this.approxBytes += update.byteLength;
    }
    const listeners = this.deps.listeners;
    if (listeners) for (const listener of listeners) if (routes(from, listener.destination)) listener.onChange(this, update, from, deleted);
  }

  private send(conn: RoomConnection, type: number, message: Uint8Array): void {
    conn.send(message);
    this.deps.metrics.messageOut(type, message.byteLength);
  }
}
