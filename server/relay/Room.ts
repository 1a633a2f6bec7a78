/**
 * One document in memory: its Y.Doc, its awareness (presence), the connections editing it and
 * the saver that stores its changes. Transport-agnostic: connections are RoomConnections.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as authProtocol from 'y-protocols/auth';
import type { Logger } from 'pino';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeAwarenessMessage, encodeSyncStep1 } from '../../lib/protocol/encode';
import {
  ACK_MESSAGE_TYPE,
  decodeDigestCheck,
  DIGEST_MESSAGE_TYPE,
  DIGEST_PROTOCOL_VERSION,
  encodeDigestCheck,
  encodeMarkStored,
  encodeStoredAck,
  MARK_MESSAGE_TYPE,
} from '../../lib/protocol/ackExtension';
import { documentDigest, equalBytes } from '../../lib/protocol/documentDigest';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Metrics } from '../metrics';
import { DocumentSaver, DEFAULT_SAVER_OPTIONS, type SaverHooks, type SaverOptions } from './DocumentSaver';
import { ConnectionError, ProtocolError } from './errors';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { assertPlacedBetweenNeighbours, assertWellFormedUpdate, hasPending, wouldChange, type ClientWrites } from './updateGuard';
import { UpdateAdmission, type RetryHandlers } from './UpdateAdmission';
import { isChangeOrigin, SERVER_ORIGIN, STORAGE_ORIGIN, type ChangeOrigin, type RemoteOrigin, type StorageOrigin } from './origins';
import { routes } from './originPolicy';
import type { RoomListener } from './RoomListener';
import type { RoomConnection } from './RoomConnection';
import { concordMap, recordedSchemaVersion, schemaVersionRecordedBy } from '../../lib/documents/schemaVersion';
import type { SendBatcher } from './SendBatcher';
import { Fanout } from './Fanout';

export interface RoomLimits {
  /** Approximate stored size at which the document stops accepting changes. */
  maxDocumentBytes: number;
  /** Update data that cannot be integrated yet (missing dependencies) one connection may have waiting. */
  maxPendingBytes: number;
}

/**
 * What happens to a change made outside `Room.change` (no ChangeOrigin): 'throw' reports it as an
 * uncaught error (tests), 'store' logs it at error level and stores and relays it as the server's
 * own change, so it can never reach clients without reaching storage (production).
 */
export type UntaggedChangePolicy = 'throw' | 'store';

export const DEFAULT_UNTAGGED_CHANGE_POLICY: UntaggedChangePolicy =
  process.env.VITEST || process.env.NODE_ENV === 'test' ? 'throw' : 'store';

/** Updates one connection may have waiting for their dependencies (besides maxPendingBytes). */
const MAX_WAITING_UPDATES = 256;

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxDocumentBytes: 64 * 1024 * 1024,
  maxPendingBytes: 1024 * 1024,
};

export interface RoomDeps {
  store: DocumentStore;
  log: Logger;
  metrics: Metrics;
  saverOptions?: SaverOptions;
  limits?: RoomLimits;
  /**
   * Called when applying a well-formed-looking update threw half-way: the in-memory document may
   * be inconsistent, so the owner reloads it from storage.
   */
  onCorrupted?: (room: Room) => void;
  /** Called when storage refused a write because the document is deleted: its saver has stopped for good. */
  onDeleted?: (room: Room) => void;
  untaggedChanges?: UntaggedChangePolicy;
  /** Everything besides connections that takes this room's changes (region links, …); read on every change. */
  listeners?: readonly RoomListener[];
  /** Peer regions a change routed to 'regions' must reach: stored changes mark them dirty in the same transaction. */
  dirtyFor?: () => readonly string[];
  /**
   * When given (the relay), changes are collected and sent in batches: updates once the task that
   * applied them is over, presence at the end of the event-loop turn (see Fanout); without it
   * (unit tests, tools) each change is sent at once.
   */
  batcher?: SendBatcher;
}

/** What an awareness 'update' event reports. */
interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

export class Room {
  readonly doc: Y.Doc;
  readonly awareness: awarenessProtocol.Awareness;
  readonly saver: DocumentSaver;
  private readonly connections = new Set<RoomConnection>();
  /** Awareness client IDs each connection controls, by its origin (removed when it leaves). */
  private readonly controlled = new Map<ChangeOrigin, Set<number>>();
  private destroyed = false;
  /** Sends changes to the connections (batched when the relay gives a batcher). */
  private readonly fanout: Fanout;
  private readonly onDocUpdate: (update: Uint8Array, origin: unknown) => void;
  private readonly onAwarenessUpdate: (change: AwarenessChange, origin: unknown) => void;
  /** State vector of what is durably stored (everything loaded, plus every saved batch). */
  private storedStateVector: Uint8Array;
  /** Stored size plus everything applied since; reset from the snapshot size on compaction. */
  private approxBytes: number;
  private readonly limits: RoomLimits;
  /** The origin of the change being made through `change`, and the updates it produced so far. */
  private changing: ChangeOrigin | null = null;
  private changed: Uint8Array[] = [];
  /** Counts completed changes, so derived values (the digest) are computed once per state. */
  private version = 0;
  private digestCache: { version: number; stateVector: Uint8Array; digest: Uint8Array } | null = null;
  /** A change failed half-way: the document is waiting to be reloaded from storage. */
  private corrupted = false;
  /** When updates may enter the document: now, or once what they need arrives (UpdateAdmission). */
  private readonly admission: UpdateAdmission;
  private readonly retryHandlers: RetryHandlers;
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
    this.storedStateVector = Y.encodeStateVector(doc);
    this.awareness = new awarenessProtocol.Awareness(doc);
    // The server is not a participant: it has no presence of its own.
    this.awareness.setLocalState(null);
    this.fanout = new Fanout(this.connections, this.awareness, deps.metrics, deps.log, deps.batcher);
    // Listeners and hooks are closures made here, not arrow class fields or arrows in object
    // literals: tsx compiles with esbuild's keepNames, which renames those with
    // Object.defineProperty and so gives each one a property dictionary (~250 bytes apiece).
    const room = this;
    const hooks: SaverHooks = {
      snapshot() {
        if (room.corrupted) throw new Error('the document failed a change and is being reloaded; not compacting from it');
        const snapshot = Y.encodeStateAsUpdate(room.doc);
        room.approxBytes = snapshot.byteLength;
        return snapshot;
      },
      stateVector() {
        // A corrupted document's state vector may count what storage never received.
        return room.corrupted ? null : Y.encodeStateVector(room.doc);
      },
      compactableThrough() {
        let through = Infinity;
        for (const listener of room.deps.listeners ?? []) through = Math.min(through, listener.compactableThrough?.(room) ?? Infinity);
        return through;
      },
      compactionLease() {
        return room.deps.listeners?.find((listener) => listener.compactionLease)?.compactionLease?.(room);
      },
      onSaved(_batch, _seq, storedStateVector) {
        if (storedStateVector) room.acknowledgeStored(storedStateVector);
      },
      onDeleted() {
        room.deps.onDeleted?.(room);
      },
      appendOptions(batch) {
        const peers = room.deps.dirtyFor?.();
        if (!peers || peers.length === 0 || !batch.some((p) => routes(p.origin, 'regions'))) return undefined;
        return { dirtyFor: peers };
      },
    };
    this.admission = new UpdateAdmission(doc, { maxPendingBytes: this.limits.maxPendingBytes, maxWaitingUpdates: MAX_WAITING_UPDATES }, () => deps.metrics.updateWaiting());
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
        for (const conn of room.connections) if (conn.origin === origin) for (const id of marks) room.answerMark(conn, id);
      },
    };
    this.onDocUpdate = (update, origin) => this.handleDocUpdate(update, origin);
    this.onAwarenessUpdate = (change, origin) => this.handleAwarenessUpdate(change, origin);
    this.saver = new DocumentSaver(
      docId,
      deps.store,
      hooks,
      deps.log,
      deps.metrics,
      stored,
      deps.saverOptions ?? DEFAULT_SAVER_OPTIONS,
    );
    doc.on('update', this.onDocUpdate);
    this.awareness.on('update', this.onAwarenessUpdate);
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
    const clients = this.controlled.get(origin);
    this.controlled.delete(origin);
    if (clients && clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, Array.from(clients), origin);
  }

  /** Presence from a peer region's (or another instance's) clients. */
  applyRemotePresence(origin: RemoteOrigin, update: Uint8Array): void {
    if (!this.controlled.has(origin)) this.controlled.set(origin, new Set());
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, origin);
    } catch (err) {
      this.deps.log.warn({ err, docId: this.docId, from: describeRemote(origin) }, 'invalid remote presence; dropped');
    }
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
    this.controlled.set(conn.origin, new Set());
    this.send(conn, MessageType.sync, encodeSyncStep1(this.doc));
    if (this.awareness.getStates().size > 0) {
      this.send(conn, MessageType.awareness, encodeAwarenessMessage(this.awareness));
    }
    // A (re)connecting client learns at once which of its edits are already safe.
    if (conn.wantsAcks) this.send(conn, ACK_MESSAGE_TYPE, encodeStoredAck(this.storedStateVector));
  }

  /** Removes a connection and the presence it controlled (its cursors disappear for everyone). */
  removeConnection(conn: RoomConnection): void {
    if (!this.connections.delete(conn)) return;
    // Its waiting updates go with it (the client sends them again in its next sync); the client
    // ids it wrote are free again, so updates that waited on them are checked anew.
    if (this.admission.forget(conn.origin)) this.admission.retry(this.retryHandlers, true);
    const clients = this.controlled.get(conn.origin);
    this.controlled.delete(conn.origin);
    if (clients && clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, Array.from(clients), conn.origin);
  }

  /**
   * Handles one incoming frame from a connection. Throws ProtocolError for a frame that is not
   * a valid message; the caller closes that connection.
   */
  receive(conn: RoomConnection, message: Uint8Array): void {
    const decoder = decoding.createDecoder(message);
    let type: number;
    try {
      type = decoding.readVarUint(decoder);
    } catch (cause) {
      throw new ProtocolError('empty or truncated frame', { cause });
    }
    this.deps.metrics.messageIn(type, message.byteLength);
    switch (type) {
      case MessageType.sync:
        this.receiveSync(conn, decoder);
        return;
      case MessageType.awareness:
        this.receiveAwareness(conn, decoder);
        return;
      case MessageType.queryAwareness:
        this.send(conn, MessageType.awareness, encodeAwarenessMessage(this.awareness));
        return;
      case MessageType.auth:
        // Permissions are decided at the upgrade; an auth frame from a client carries nothing we use.
        return;
      case MARK_MESSAGE_TYPE:
        // Only clients that negotiated the extension may use it; to others it is unknown.
        if (!conn.wantsAcks) throw new ProtocolError(`unknown message type ${type}`);
        this.receiveMark(conn, decoder);
        return;
      case DIGEST_MESSAGE_TYPE:
        if ((conn.protocolVersion ?? 0) < DIGEST_PROTOCOL_VERSION) throw new ProtocolError(`unknown message type ${type}`);
        this.receiveDigestCheck(conn, message);
        return;
      default:
        throw new ProtocolError(`unknown message type ${type}`);
    }
  }

  /** Stops timers and listeners. Call only when `unloadable` (or at shutdown, after flushing). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.saver.stop();
    this.fanout.stop();
    this.doc.off('update', this.onDocUpdate);
    this.awareness.off('update', this.onAwarenessUpdate);
    this.awareness.destroy();
    this.doc.destroy();
  }

  private receiveSync(conn: RoomConnection, decoder: decoding.Decoder): void {
    let step: number;
    let payload: Uint8Array;
    try {
      step = decoding.readVarUint(decoder);
      payload = decoding.readVarUint8Array(decoder);
    } catch (cause) {
      throw new ProtocolError('truncated sync message', { cause });
    }
    switch (step) {
      case syncProtocol.messageYjsSyncStep1:
        this.answerSyncStep1(conn, payload);
        return;
      case syncProtocol.messageYjsSyncStep2:
      case syncProtocol.messageYjsUpdate:
        this.applyClientUpdate(conn, payload);
        return;
      default:
        throw new ProtocolError(`unknown sync message type ${step}`);
    }
  }

  private answerSyncStep1(conn: RoomConnection, stateVector: Uint8Array): void {
    let update: Uint8Array;
    try {
      update = Y.encodeStateAsUpdate(this.doc, stateVector);
    } catch (cause) {
      throw new ProtocolError('invalid state vector', { cause });
    }
    const message = encoding.createEncoder();
    encoding.writeVarUint(message, MessageType.sync);
    encoding.writeVarUint(message, syncProtocol.messageYjsSyncStep2);
    encoding.writeVarUint8Array(message, update);
    this.send(conn, MessageType.sync, encoding.toUint8Array(message));
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
    try {
      this.doc.transact((transaction) => {
        apply(this.doc);
        // Inside the transaction, before any update event: a failure here discards it all.
        assertPlacedBetweenNeighbours(transaction, writes?.keys());
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
    for (const update of updates) this.forward(update, origin);
    return true;
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

  /** A change from a client: checked, bounded, applied whole or not at all, with the connection as its origin. */
  private applyClientUpdate(conn: RoomConnection, update: Uint8Array): void {
    if (!conn.canEdit) {
      assertWellFormedUpdate(update);
      // View-only: nothing is applied, stored or relayed. Tell the client if it tried to change anything.
      if (wouldChange(this.doc, update)) {
        this.deps.metrics.frameRejected();
        const denial = encoding.createEncoder();
        encoding.writeVarUint(denial, MessageType.auth);
        authProtocol.writePermissionDenied(denial, 'This is a view-only link: changes are not saved.');
        this.send(conn, MessageType.auth, encoding.toUint8Array(denial));
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

  private receiveAwareness(conn: RoomConnection, decoder: decoding.Decoder): void {
    try {
      const update = decoding.readVarUint8Array(decoder);
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, conn.origin);
    } catch (cause) {
      throw new ProtocolError('invalid awareness message', { cause });
    }
  }

  /**
   * Answers a mark once everything this connection sent before it is stored. Its changes were
   * queued for storage as they were applied, so "everything queued so far" covers them.
   */
  private receiveMark(conn: RoomConnection, decoder: decoding.Decoder): void {
    let id: number;
    try {
      id = decoding.readVarUint(decoder);
    } catch (cause) {
      throw new ProtocolError('truncated mark message', { cause });
    }
    // Something it sent is still waiting for its dependencies: answer once that is applied.
    if (!this.admission.queueMark(conn.origin, id)) this.answerMark(conn, id);
  }

  /**
   * A replica compares itself with ours. Equal state vectors with different digests are a split
   * that no sync would ever repair (each side thinks the other has nothing new): count it, and
   * exchange full state with that client — its whole document comes back through the usual
   * checks, ours goes to it — then answer with our state vector and digest either way.
   */
  private receiveDigestCheck(conn: RoomConnection, frame: Uint8Array): void {
    let check: { stateVector: Uint8Array; digest: Uint8Array };
    try {
      check = decodeDigestCheck(frame)!;
    } catch (cause) {
      throw new ProtocolError('malformed digest check', { cause });
    }
    const ours = this.currentDigest();
    if (equalBytes(check.stateVector, ours.stateVector) && !equalBytes(check.digest, ours.digest)) {
      this.deps.metrics.splitDetected();
      this.deps.log.warn({ docId: this.docId, connectionId: conn.origin.connectionId }, 'replica split detected (equal state vectors, different digests); exchanging full state');
      this.send(conn, MessageType.sync, encodeSyncStep1(new Y.Doc()));
      this.answerSyncStep1(conn, new Uint8Array([0]));
    }
    this.send(conn, DIGEST_MESSAGE_TYPE, encodeDigestCheck(ours.stateVector, ours.digest));
  }

  /** Our state vector and digest, computed once per state of the document. */
  private currentDigest(): { stateVector: Uint8Array; digest: Uint8Array } {
    if (this.digestCache === null || this.digestCache.version !== this.version) {
      this.digestCache = { version: this.version, stateVector: Y.encodeStateVector(this.doc), digest: documentDigest(this.doc) };
    }
    return this.digestCache;
  }

  private answerMark(conn: RoomConnection, id: number): void {
    this.saver.afterQueuedStored(() => this.send(conn, MARK_MESSAGE_TYPE, encodeMarkStored(id, this.storedStateVector)));
  }

  /** Tells every connection that negotiated acks what is now durably stored. */
  private acknowledgeStored(storedStateVector: Uint8Array): void {
    this.storedStateVector = storedStateVector;
    let message: Uint8Array | null = null;
    for (const conn of this.connections) {
      if (!conn.wantsAcks) continue;
      message ??= encodeStoredAck(storedStateVector);
      this.send(conn, ACK_MESSAGE_TYPE, message);
    }
  }

  private handleDocUpdate(update: Uint8Array, origin: unknown): void {
    // Everything that happens while a change runs is part of it, including Yjs's own follow-up
    // transactions (Y.Text cleans up formatting after remote changes with no origin).
    if (this.changing !== null) {
      this.changed.push(update);
      return;
    }
    // Untagged: something transacted on the document without going through `change` (an
    // exporter "repairing" the body, a library call). Never relay it unstored: deletions do not
    // show in state vectors, so clients and storage would differ for good.
    const err = new Error(`an untagged change (origin ${describeOrigin(origin)}) reached document ${this.docId}`);
    this.deps.log.error({ err, docId: this.docId }, 'untagged change: storing and relaying it as the server\'s own');
    this.deps.metrics.untaggedChange();
    this.forward(update, isChangeOrigin(origin) && origin.kind !== 'storage' ? origin : SERVER_ORIGIN);
    if ((this.deps.untaggedChanges ?? DEFAULT_UNTAGGED_CHANGE_POLICY) === 'throw') {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Sends a completed change to the other connections and queues it for storage. */
  private forward(update: Uint8Array, from: ChangeOrigin): void {
    this.version++;
    // Fan-out goes first: it is sent as soon as this task is over, while the saver writes at the
    // end of the event-loop turn at the earliest, so the storage write never delays the relay.
    if (routes(from, 'clients')) this.fanout.update(update, from);
    if (routes(from, 'storage')) {
      this.saver.enqueue(update, from);
      this.approxBytes += update.byteLength;
    }
    const listeners = this.deps.listeners;
    if (listeners) for (const listener of listeners) if (routes(from, listener.destination)) listener.onChange(this, update, from);
  }

  private handleAwarenessUpdate({ added, updated, removed }: AwarenessChange, origin: unknown): void {
    const controlled = isChangeOrigin(origin) ? this.controlled.get(origin) : undefined;
    if (controlled) {
      for (const id of added) controlled.add(id);
      for (const id of removed) controlled.delete(id);
    }
    const changed = added.concat(updated, removed);
    this.fanout.presenceChanged(changed);
    const listeners = this.deps.listeners;
    if (!listeners || !isChangeOrigin(origin)) return;
    let update: Uint8Array | null = null;
    for (const listener of listeners) {
      if (!listener.onPresence || !routes(origin, listener.destination)) continue;
      update ??= awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
      listener.onPresence(this, update, origin);
    }
  }

  private send(conn: RoomConnection, type: number, message: Uint8Array): void {
    conn.send(message);
    this.deps.metrics.messageOut(type, message.byteLength);
  }
}


const EDITOR_OUTDATED_REASON = 'editor outdated: reload';

/** An editor that declared a schema older than the document's; stock clients declare none. */
function isOutdatedEditor(conn: RoomConnection, recorded: number | null): boolean {
  return recorded !== null && conn.schemaVersion != null && conn.schemaVersion < recorded;
}

/** Where a remote change came from, for logs. */
function describeRemote(origin: ChangeOrigin): string {
  if (origin.kind === 'peer') return `region ${origin.peerId}`;
  if (origin.kind === 'instance') return `instance ${origin.instanceId}`;
  return origin.kind;
}

function describeOrigin(origin: unknown): string {
  if (isChangeOrigin(origin)) return origin.kind;
  if (origin === null || origin === undefined) return 'none';
  return typeof origin === 'object' ? (origin.constructor?.name ?? 'object') : typeof origin;
}
