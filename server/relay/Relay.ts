/**
 * The relay: takes `/ws/<docId>` upgrades, checks each connection at the door (ConnectionDoor), owns
 * the rooms (one per loaded document) and decides when a room may leave memory. All state lives in
 * the instance, so several relays (tests, later regions) can run in one process.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { decodePathSegment, describeBadDocId, isDocId } from '../../lib/ids';
import { INITIAL_ACCESS, roleFor, type AccessState } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { CONCORD_PROTOCOL_PARAM, requestedProtocolVersion, SCHEMA_PARAM } from '../../lib/protocol/ackExtension';
import { declaredSchemaVersion } from '../../lib/documents/schemaVersion';
import type { DirtyOptions, DocumentStore } from '../storage/DocumentStore';
import type { Metrics, RelayStats } from '../metrics';
import { clientIp, requestToken } from '../http/clientIp';
import type { SaverOptions } from './DocumentSaver';
import { LocalConnectionSlots, type ConnectionSlots } from './ConnectionSlots';
import { ConnectionDoor, rejectUpgrade } from './ConnectionDoor';
import { DEFAULT_ROOM_LIMITS, Room, type RoomLimits } from './Room';
import { Session, type SessionDeps, type SessionLimits } from './Session';
import type { RoomListener } from './RoomListener';
import { SendBatcher } from './SendBatcher';
import { UnloadTimers } from './UnloadTimers';

/** After storing everything on shutdown, how long clients get to answer their close frames. */
const CLOSE_FRAME_GRACE_MS = 2000;

export const RELAY_PATH_PREFIX = '/ws/';

/** A document's access changed: here (fromPeer undefined) or as merged from a peer region. */
export type AccessListener = (docId: string, access: AccessState, fromPeer: string | undefined) => void;

export interface RelayOptions extends SessionLimits, RoomLimits {
  /** Open connections per client address. */
  maxConnectionsPerIp: number;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
  /** Heartbeat period; a connection that misses one ping is closed. */
  heartbeatMs: number;
  /** How long an idle, saved document stays in memory after its last connection leaves. */
  unloadDelayMs: number;
  /**
   * How long close() waits for every document to be stored. Past it, the documents still unsaved
   * are reported and dropped: their clients hold the edits and re-send them to the next server.
   */
  shutdownGraceMs: number;
  saver?: SaverOptions;
  /** The per-address cap counted with the region's other instances (REDIS_URL); default: this relay alone. */
  connectionSlots?: ConnectionSlots;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  ...DEFAULT_ROOM_LIMITS,
  maxMessageBytes: 4 * 1024 * 1024,
  maxQueuedBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxMessagesPerSecond: 300,
  maxConnectionsPerIp: 200,
  trustProxy: false,
  heartbeatMs: 30_000,
  unloadDelayMs: 5_000,
  shutdownGraceMs: 10_000,
};

/** What close() managed to do. */
export interface ShutdownReport {
  /** Documents with changes that could not be stored within the grace period (empty: all stored). */
  unstoredDocIds: string[];
}

export class Relay {
  private readonly wss: WebSocketServer;
  private readonly rooms = new Map<string, Room>();
  /** One load per document, shared by every connection that arrives while it runs. */
  private readonly loading = new Map<string, Promise<Room>>();
  /** Everything besides connections that takes rooms' changes (shared with every room). */
  private readonly listeners: RoomListener[] = [];
  private readonly accessListeners: AccessListener[] = [];
  private dirtyFor: () => readonly string[] = () => [];
  /** Rooms dropped after a failed change, until everything they applied before it is stored. */
  private readonly reloading = new Map<string, Promise<void>>();
  private readonly sessions = new Set<Session>();
  private readonly unloads: UnloadTimers;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly batcher: SendBatcher;
  /** What every session needs from the relay: one object shared by all of them. */
  private readonly sessionDeps: SessionDeps;
  private readonly door: ConnectionDoor;
  private closing = false;
  private closed: Promise<ShutdownReport> | null = null;

  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly options: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {
    // Frames up to twice the cap are read so we can refuse them with our own code (4413); beyond
    // that ws itself drops the connection (1009) without buffering more. No compression: Yjs
    // updates are small and dense, deflate state costs ~300 KB per connection, and sessions write
    // pre-built uncompressed frames (SendBatcher).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes * 2, perMessageDeflate: false, clientTracking: false });
    this.batcher = new SendBatcher(log);
    this.unloads = new UnloadTimers(options.unloadDelayMs);
    this.sessionDeps = { log, metrics, limits: options, batcher: this.batcher };
    this.door = new ConnectionDoor(store, log, options.connectionSlots ?? new LocalConnectionSlots(options.maxConnectionsPerIp));
    this.heartbeat = setInterval(() => {
      for (const session of this.sessions) session.heartbeat();
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  stats(): RelayStats {
    return { connections: this.sessions.size, documentsLoaded: this.rooms.size };
  }

  /** The documents loaded in memory now. */
  loadedDocIds(): string[] {
    return Array.from(this.rooms.keys());
  }

  /** The in-memory room of a document, if loaded (fresher than storage). */
  loadedRoom(docId: string): Room | undefined {
    return this.rooms.get(docId);
  }

  /**
   * Takes an HTTP upgrade if its path is `/ws/…`; returns false to leave it to someone else.
   * A malformed document ID is refused with HTTP 400; every other refusal is a close code sent
   * right after the upgrade, before any document data, so browsers can tell why.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    if (!url.pathname.startsWith(RELAY_PATH_PREFIX)) return false;
    const docId = decodePathSegment(url.pathname.slice(RELAY_PATH_PREFIX.length));
    if (this.closing) {
      rejectUpgrade(socket, 503, 'The server is shutting down.');
      return true;
    }
    if (docId === null || !isDocId(docId)) {
      this.metrics.connectionRefused(CloseCode.badDocumentId);
      rejectUpgrade(socket, 400, docId === null ? 'The document ID is not valid.' : describeBadDocId(docId));
      return true;
    }
    const token = requestToken(req, url);
    const ip = clientIp(req, this.options.trustProxy);
    const version = requestedProtocolVersion(url.searchParams.get(CONCORD_PROTOCOL_PARAM));
    const schema = declaredSchemaVersion(url.searchParams.get(SCHEMA_PARAM));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, docId, token, ip, version, schema));
    return true;
  }

  /** Re-checks every open connection of a document after its links were rotated. */
  accessChanged(docId: string, access: AccessState, fromPeer?: string): void {
    for (const listener of this.accessListeners) listener(docId, access, fromPeer);
    for (const session of this.sessions) {
      if (session.docId !== docId || session.token === null || session.role === null) continue;
      if (access.deleted) session.close(CloseCode.documentDeleted, 'document deleted');
      else if (roleFor(docId, session.token, access) === null) session.close(CloseCode.forbidden, 'link revoked');
    }
  }

  /** Closes every connection of a deleted document and drops it from memory without saving. */
  documentDeleted(docId: string, fromPeer?: string): void {
    this.accessChanged(docId, { ...INITIAL_ACCESS, deleted: true }, fromPeer);
    const room = this.rooms.get(docId);
    if (room) {
      this.rooms.delete(docId);
      this.unloads.cancel(docId);
      room.destroy();
    }
  }

  /**
   * Closes every connection, stores every pending change, then unloads every room. Storing is
   * bounded by shutdownGraceMs, so a failing store cannot hang shutdown (issue #11); the report
   * names the documents left unstored, which are also logged at error level.
   */
  close(): Promise<ShutdownReport> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<ShutdownReport> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.unloads.clear();
    const closedSessions = Array.from(this.sessions);
    for (const session of closedSessions) session.close(CloseCode.goingAway, 'server shutting down');
    const graceMs = this.options.shutdownGraceMs;
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
    await Promise.race([this.storeEverything(), graceOver]);
    clearTimeout(graceTimer);
    const unstoredDocIds: string[] = [];
    for (const room of this.rooms.values()) {
      if (!room.saver.idle) unstoredDocIds.push(room.docId);
      room.destroy(); // also stops the savers still retrying
    }
    this.rooms.clear();
    if (unstoredDocIds.length > 0) {
      this.log.error(
        { docIds: unstoredDocIds, graceMs },
        'shutdown: these documents could not be stored in time; their clients keep the edits and re-send them to the next server',
      );
    }
    // Everything is stored by now; a client that does not answer its close frame (gone without a
    // TCP reset) is not waited for (ws would wait 30 s, longer than many process supervisors).
    let stragglers: NodeJS.Timeout | undefined;
    const graceEnds = new Promise<void>((resolve) => (stragglers = setTimeout(resolve, CLOSE_FRAME_GRACE_MS)));
    await Promise.race([Promise.all(closedSessions.map((session) => session.socketClosed)), graceEnds]);
    clearTimeout(stragglers);
    for (const session of closedSessions) session.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    return { unstoredDocIds };
  }

  /** Waits for running loads, then for every room's saver to store (and compact) everything. */
  private async storeEverything(): Promise<void> {
    await Promise.allSettled(this.loading.values());
    await Promise.all(
      Array.from(this.rooms.values(), async (room) => {
        await room.saver.whenIdle();
        await room.saver.compactIfNeeded();
      }),
    );
  }

  private accept(ws: WebSocket, socket: Duplex, docId: string, token: string | null, ip: string, version: number | null, schema: number | null): void {
    const session = new Session(
      docId,
      token,
      ip,
      version,
      schema,
      ws,
      socket,
      this.sessionDeps,
      this.onSessionClosed,
    );
    this.sessions.add(session);
    this.metrics.connectionOpened();
    this.unloads.cancel(docId);
    this.door.admit(session).then((admitted) => {
      if (admitted) this.join(session);
    }).catch((err: unknown) => {
      this.log.error({ err, docId }, 'could not check access');
      session.close(CloseCode.documentUnavailable, 'access could not be checked; try again later');
    });
  }

  private join(session: Session): void {
    const { docId } = session;
    this.getRoom(docId).then(
      (room) => {
        // The room may have been unloaded between the lookup and now: load it again.
        if (room.isDestroyed) return this.join(session);
        session.attach(room);
        if (room.connectionCount === 0 && !this.closing) this.scheduleUnload(room);
      },
      (err: unknown) => {
        this.log.error({ err, docId }, 'could not load document');
        session.close(CloseCode.documentUnavailable, 'document could not be loaded; try again later');
      },
    );
  }

  private getRoom(docId: string): Promise<Room> {
    const loaded = this.rooms.get(docId);
    if (loaded) return Promise.resolve(loaded);
    let pending = this.loading.get(docId);
    if (!pending) {
      // A room being reloaded first stores everything it applied before its failed change.
      const previous = this.reloading.get(docId) ?? Promise.resolve();
      pending = previous.then(() => this.beforeLoad(docId)).then(() => Room.load(docId, {
        store: this.store,
        log: this.log,
        metrics: this.metrics,
        saverOptions: this.options.saver,
        limits: this.options,
        batcher: this.batcher,
        onCorrupted: this.reload,
        onDeleted: this.deletedInStorage,
        listeners: this.listeners,
        dirtyFor: () => this.dirtyFor(),
      }))
        .then((room) => {
          this.rooms.set(docId, room);
          for (const listener of this.listeners) listener.loaded?.(room);
          this.log.debug({ docId }, 'document loaded');
          return room;
        })
        .finally(() => this.loading.delete(docId));
      this.loading.set(docId, pending);
    }
    return pending;
  }

  /** Lets every listener prepare for a load (the bus between instances subscribes first). */
  private async beforeLoad(docId: string): Promise<void> {
    for (const listener of this.listeners) await listener.beforeLoad?.(docId);
  }

  /**
   * A change failed half-way (Room.change): nothing of it left the room, but the in-memory copy
   * may hold part of it. Drop that copy once every earlier change is stored, and let clients
   * reconnect to a copy loaded from storage (loads of the document wait for that).
   */
  private readonly reload = (room: Room): void => {
    if (this.rooms.get(room.docId) !== room) return;
    this.rooms.delete(room.docId);
    for (const session of this.sessions) {
      if (session.docId === room.docId) session.close(CloseCode.documentUnavailable, 'document is reloading');
    }
    const stored = room.saver.whenIdle().then(() => {
      room.destroy();
      if (this.reloading.get(room.docId) === stored) this.reloading.delete(room.docId);
    });
    this.reloading.set(room.docId, stored);
  };

  /** Storage refused a write because the document is deleted (e.g. by another server): stop serving it. */
  private readonly deletedInStorage = (room: Room): void => {
    if (this.rooms.get(room.docId) !== room) return; // already unloaded (deleted through our API, or reloaded)
    this.log.warn({ docId: room.docId }, 'document deleted elsewhere; closing its connections and unloading it');
    this.documentDeleted(room.docId);
  };

  private readonly onSessionClosed = (session: Session): void => {
    this.sessions.delete(session);
    this.door.left(session);
    const room = this.rooms.get(session.docId);
    if (room && room.connectionCount === 0 && !this.closing) this.scheduleUnload(room);
  };

  /** Adds something that takes every room's changes (a region link, …); see RoomListener. */
  addRoomListener(listener: RoomListener): void {
    this.listeners.push(listener);
  }

  /** Called for every change of a document's links (rotation, deletion), and with the peer it came from. */
  onAccessChanged(listener: AccessListener): void {
    this.accessListeners.push(listener);
  }

  /** Which peer regions stored changes must be marked dirty for (the replicator sets it). */
  setDirtyFor(peers: () => readonly string[]): void {
    this.dirtyFor = peers;
  }

  /**
   * For a rotation or deletion made here: stored with these options, the change is marked for
   * every peer region in its own transaction (then `accessChanged` / `documentDeleted` send it live).
   */
  accessChangeOptions(): DirtyOptions | undefined {
    const peers = this.dirtyFor();
    return peers.length > 0 ? { dirtyFor: peers } : undefined;
  }

  /**
   * Loads a document (or takes the loaded room) and holds it in memory without a connection
   * until `release` — a region link applying a peer's change, a catch-up pass.
   */
  async openDocument(docId: string): Promise<{ room: Room; release: () => void }> {
    for (;;) {
      const room = await this.getRoom(docId);
      if (room.isDestroyed) continue;
      this.unloads.cancel(docId);
      const letGo = room.hold();
      return {
        room,
        release: () => {
          letGo();
          if (this.rooms.get(docId) === room && room.connectionCount === 0 && !this.closing) this.scheduleUnload(room);
        },
      };
    }
  }

  private scheduleUnload(room: Room): void {
    this.unloads.schedule(room.docId, () => void this.unloadWhenSaved(room));
  }

  /** Unloads only after everything is stored; a failing store keeps the room (and retries). */
  private async unloadWhenSaved(room: Room): Promise<void> {
    await room.saver.whenIdle();
    await room.saver.compactIfNeeded();
    if (this.closing || this.rooms.get(room.docId) !== room || !room.unloadable) return;
    this.rooms.delete(room.docId);
    room.destroy();
    this.log.debug({ docId: room.docId }, 'document unloaded');
  }
}
