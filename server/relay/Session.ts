/**
 * One WebSocket connection to one document. Queues frames (bounded) until it is authorised and
 * its room is loaded, then hands each frame to the room. A bad frame closes this connection only.
 * What it sends is queued and written by the SendBatcher with one write once the current task is over.
 */
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { roleAllows, type Role } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import type { Metrics } from '../metrics';
import { ConnectionError } from './errors';
import { MessageRateLimiter } from './MessageRateLimiter';
import { newClientOrigin, type ClientOrigin } from './origins';
import type { Room } from './Room';
import type { RoomConnection } from './RoomConnection';
import type { QueuedSender, SendBatcher } from './SendBatcher';

export interface SessionLimits {
  /** Largest frame we accept; a larger one closes the connection with 4413. */
  maxMessageBytes: number;
  /** Bytes a connection may send before it is authorised and its room loaded (GHSA-xwhh-v746-pj9m). */
  maxQueuedBytes: number;
  /** Bytes we may buffer for a client that reads too slowly before dropping it (it resyncs on reconnect). */
  maxBufferedBytes: number;
  /** Messages per second one connection may send; one more closes it with 4529. */
  maxMessagesPerSecond: number;
}

export interface SessionDeps {
  log: Logger;
  metrics: Metrics;
  limits: SessionLimits;
  /** Writes every session's queued messages, one write per session per batch. */
  batcher: SendBatcher;
}

/**
 * Back-reference from a socket to its session, so that one set of listener functions serves
 * every connection: no closures per connection (under tsx, whose keepNames gives every named
 * closure a property dictionary, a closure costs ~300 bytes).
 */
const SESSION = Symbol('concord.session');
type SessionSocket = WebSocket & { [SESSION]: Session };
const sessionOf = (ws: WebSocket): Session => (ws as SessionSocket)[SESSION];

export class Session implements RoomConnection, QueuedSender {
  readonly origin: ClientOrigin = newClientOrigin();
  /** Answered a ping since the last heartbeat. */
  alive = true;
  /** Set once the capability is verified; null while authorising. */
  role: Role | null = null;
  private room: Room | null = null;
  /** Frames received before the room was ready (null when none). */
  private queue: Uint8Array[] | null = null;
  private queuedBytes = 0;
  /**
   * Messages to send when the current task is over: the first, then any others (most connections
   * get one message per batch, which then costs no array).
   */
  private outgoing: Uint8Array | null = null;
  private outgoingMore: Uint8Array[] | null = null;
  private outgoingBytes = 0;
  private closed = false;
  private readonly rate: MessageRateLimiter;

  constructor(
    readonly docId: string,
    /** The capability token presented at the upgrade (never logged). */
    readonly token: string | null,
    readonly clientIp: string,
    /** Concord protocol extension version the client negotiated, or null for a stock client. */
    readonly protocolVersion: number | null,
    /** Editor schema version the client declared (`?schema=`), or null for a stock client. */
    readonly schemaVersion: number | null,
    private readonly ws: WebSocket,
    /** The upgraded socket under `ws`: batched frames are written to it directly. */
    private readonly socket: Duplex,
    private readonly deps: SessionDeps,
    private readonly onClosed: (session: Session) => void,
  ) {
    // Frames are written to the socket pre-built (SendBatcher), which needs the plain framing.
    if (ws.extensions !== '') throw new RangeError(`sessions need WebSockets without extensions, got "${ws.extensions}"`);
    this.rate = new MessageRateLimiter(deps.limits.maxMessagesPerSecond);
    (ws as SessionSocket)[SESSION] = this;
    ws.on('message', Session.onSocketMessage);
    ws.on('pong', Session.onSocketPong);
    ws.on('close', Session.onSocketClose);
    ws.on('error', Session.onSocketError);
  }

  private static onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    sessionOf(this).receiveFrame(data, isBinary);
  }

  private static onSocketPong(this: WebSocket): void {
    sessionOf(this).alive = true;
  }

  private static onSocketClose(this: WebSocket): void {
    sessionOf(this).handleClosed();
  }

  private static onSocketError(this: WebSocket, err: Error): void {
    const session = sessionOf(this);
    session.deps.log.warn({ err, docId: session.docId, connectionId: session.origin.connectionId }, 'websocket error');
  }

  get wantsAcks(): boolean {
    return this.protocolVersion !== null;
  }

  get canEdit(): boolean {
    return this.role !== null && roleAllows(this.role, 'edit');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Joins the loaded room and replays frames that arrived while it was loading. */
  attach(room: Room): void {
    if (this.closed) return;
    if (this.role === null) throw new Error('a session must be authorised before it joins a room');
    this.room = room;
    room.addConnection(this);
    const queued = this.queue;
    this.queue = null;
    this.queuedBytes = 0;
    if (queued === null) return;
    for (const frame of queued) {
      if (this.closed) return;
      this.deliver(frame);
    }
  }

  /** Queues `message` for the current batch. The caller must not modify it afterwards (it may be shared). */
  send(message: Uint8Array): void {
    if (this.closed) return;
    // What the socket holds unsent (ws.bufferedAmount, without ws's own queue: it never queues
    // here, compression being off) plus what this batch queued.
    const buffered = this.socket.writableLength + this.outgoingBytes;
    if (buffered > this.deps.limits.maxBufferedBytes) {
      this.deps.log.warn({ docId: this.docId, connectionId: this.origin.connectionId, buffered }, 'client too slow; closing');
      this.close(CloseCode.slowConsumer, 'too much data queued for this connection');
      return;
    }
    this.outgoingBytes += message.byteLength;
    if (this.outgoing === null) {
      this.outgoing = message;
      this.deps.batcher.schedule(this);
    } else if (this.outgoingMore === null) {
      this.outgoingMore = [this.outgoing, message];
    } else {
      this.outgoingMore.push(message);
    }
  }

  /** Writes the messages queued for this batch, in order, with one socket write (SendBatcher). */
  flushQueued(): void {
    const first = this.outgoing;
    if (first === null) return;
    const all = this.outgoingMore;
    this.outgoing = null;
    this.outgoingMore = null;
    this.outgoingBytes = 0;
    // ws sends nothing after its close frame; neither do we. (Closed sessions flushed before closing.)
    if (this.ws.readyState !== WebSocket.OPEN) return;
    try {
      if (all === null) this.deps.batcher.writeOne(this.socket, first);
      else this.deps.batcher.write(this.socket, all);
    } catch (err) {
      this.deps.log.warn({ err, docId: this.docId, connectionId: this.origin.connectionId }, 'send failed; closing');
      this.ws.terminate();
      this.handleClosed();
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    // What was sent before the close goes out before it, as when every send was written at once.
    this.flushQueued();
    if (code !== CloseCode.normal && code !== CloseCode.goingAway) this.deps.metrics.connectionRefused(code);
    this.ws.close(code, reason);
    this.handleClosed();
  }

  /** Resolves once the socket is closed (after close(), when the client answered the close frame). */
  get socketClosed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  /** Destroys the socket at once, close frame answered or not (shutdown's last step). */
  terminate(): void {
    this.ws.terminate();
    this.handleClosed();
  }

  /** Sends a ping; a session that did not answer the previous one is closed with 4508. */
  heartbeat(): void {
    if (!this.alive) {
      this.deps.log.info({ docId: this.docId, connectionId: this.origin.connectionId }, 'heartbeat missed; closing');
      // A close frame rather than a bare terminate, so a client that is merely stalled learns why
      // and retries; ws destroys the socket of a dead peer that never answers it (closeTimeout).
      this.close(CloseCode.heartbeatTimeout, 'heartbeat missed');
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private receiveFrame(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (!this.rate.take()) {
      this.deps.log.warn({ docId: this.docId, connectionId: this.origin.connectionId }, 'message rate limit exceeded; closing');
      this.close(CloseCode.rateLimited, 'too many messages per second');
      return;
    }
    if (!isBinary) {
      this.fail(new ConnectionError(CloseCode.malformedMessage, 'text frames are not part of the protocol'));
      return;
    }
    const frame = toUint8Array(data);
    if (frame.byteLength > this.deps.limits.maxMessageBytes) {
      this.fail(new ConnectionError(CloseCode.messageTooLarge, 'message too large'));
      return;
    }
    if (this.room) {
      this.deliver(frame);
      return;
    }
    this.queuedBytes += frame.byteLength;
    if (this.queuedBytes > this.deps.limits.maxQueuedBytes) {
      this.fail(new ConnectionError(CloseCode.messageTooLarge, 'too much data sent before the document was ready'));
      return;
    }
    (this.queue ??= []).push(frame);
  }

  private deliver(frame: Uint8Array): void {
    try {
      this.room!.receive(this, frame);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Only a ConnectionError (a message the client got wrong) earns its refusal code. Anything
   * else is our bug: a permanent 4400 would tell the editor to stop retrying for good, so it
   * closes with the transient 1011 and is logged as an error (issue #11).
   */
  private fail(err: unknown): void {
    const context = { err, docId: this.docId, connectionId: this.origin.connectionId };
    if (!(err instanceof ConnectionError)) {
      this.deps.log.error(context, 'internal error while handling a message; closing so the client reconnects');
      // The error's text is ours, not the client's business.
      this.close(CloseCode.internalError, 'internal server error; reconnect');
      return;
    }
    this.deps.metrics.frameRejected();
    this.deps.log.warn({ ...context, code: err.closeCode }, 'closing connection after a bad message');
    // Close reasons are limited to 123 bytes by RFC 6455.
    this.close(err.closeCode, err.message.slice(0, 120));
  }

  private handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = null;
    this.outgoing = null;
    this.outgoingMore = null;
    this.outgoingBytes = 0;
    this.room?.removeConnection(this);
    this.onClosed(this);
  }
}

function toUint8Array(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
