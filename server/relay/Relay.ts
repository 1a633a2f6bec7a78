/**
 * The relay: takes `/ws/<docId>` upgrades, owns the rooms (one per loaded document) and decides
 * when a room may leave memory. All state lives in the instance, so several relays (tests, later
 * regions) can run in one process.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { decodePathSegment, describeBadDocId, isDocId } from '../../lib/ids';
import { CloseCode } from '../../lib/protocol/closeCodes';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Metrics, RelayStats } from '../metrics';
import type { SaverOptions } from './DocumentSaver';
import { Room } from './Room';
import { Session } from './Session';

export const RELAY_PATH_PREFIX = '/ws/';

export interface RelayOptions {
  /** Largest accepted frame in bytes (ws maxPayload). */
  maxMessageBytes: number;
  /** Bytes a connection may send before its document is loaded. */
  maxQueuedBytes: number;
  /** Bytes buffered for one slow reader before it is disconnected. */
  maxBufferedBytes: number;
  /** Heartbeat period; a connection that misses one ping is closed. */
  heartbeatMs: number;
  /** How long an idle, saved document stays in memory after its last connection leaves. */
  unloadDelayMs: number;
  saver?: SaverOptions;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  heartbeatMs: 30_000,
  unloadDelayMs: 5_000,
};

export class Relay {
  private readonly wss: WebSocketServer;
  private readonly rooms = new Map<string, Room>();
  /** One load per document, shared by every connection that arrives while it runs. */
  private readonly loading = new Map<string, Promise<Room>>();
  private readonly sessions = new Set<Session>();
  private readonly unloadTimers = new Map<string, NodeJS.Timeout>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly store: DocumentStore,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly options: RelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
    this.heartbeat = setInterval(() => {
      for (const session of this.sessions) session.heartbeat();
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  stats(): RelayStats {
    return { connections: this.sessions.size, documentsLoaded: this.rooms.size };
  }

  /** The in-memory room of a document, if loaded (fresher than storage). */
  loadedRoom(docId: string): Room | undefined {
    return this.rooms.get(docId);
  }

  /**
   * Takes an HTTP upgrade if its path is `/ws/…`; returns false to leave it to someone else.
   * A malformed document ID is refused with HTTP 400 before any WebSocket exists.
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, docId));
    return true;
  }

  /** Closes every connection, stores every pending change, then unloads every room. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const timer of this.unloadTimers.values()) clearTimeout(timer);
    this.unloadTimers.clear();
    for (const session of this.sessions) session.close(CloseCode.goingAway, 'server shutting down');
    await Promise.allSettled(this.loading.values());
    await Promise.all(
      Array.from(this.rooms.values(), async (room) => {
        await room.saver.whenIdle();
        await room.saver.compactIfNeeded();
        room.destroy();
      }),
    );
    this.rooms.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, docId: string): void {
    const session = new Session(docId, ws, this.log, this.metrics, this.options, (s) =>
      this.onSessionClosed(s),
    );
    this.sessions.add(session);
    this.metrics.connectionOpened();
    this.cancelUnload(docId);
    this.log.debug({ docId, connectionId: session.origin.connectionId }, 'connection opened');
    this.join(session);
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
      pending = Room.load(docId, { store: this.store, log: this.log, metrics: this.metrics, saverOptions: this.options.saver })
        .then((room) => {
          this.rooms.set(docId, room);
          this.log.debug({ docId }, 'document loaded');
          return room;
        })
        .finally(() => this.loading.delete(docId));
      this.loading.set(docId, pending);
    }
    return pending;
  }

  private onSessionClosed(session: Session): void {
    this.sessions.delete(session);
    this.log.debug({ docId: session.docId, connectionId: session.origin.connectionId }, 'connection closed');
    const room = this.rooms.get(session.docId);
    if (room && room.connectionCount === 0 && !this.closing) this.scheduleUnload(room);
  }

  private scheduleUnload(room: Room): void {
    this.cancelUnload(room.docId);
    const timer = setTimeout(() => {
      this.unloadTimers.delete(room.docId);
      void this.unloadWhenSaved(room);
    }, this.options.unloadDelayMs);
    timer.unref();
    this.unloadTimers.set(room.docId, timer);
  }

  private cancelUnload(docId: string): void {
    const timer = this.unloadTimers.get(docId);
    if (timer) clearTimeout(timer);
    this.unloadTimers.delete(docId);
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


function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const reason = status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : 'Error';
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
