/**
 * Batches what the relay sends per event-loop turn. A session queues its outgoing messages; at
 * the end of the turn (setImmediate, after every socket read of this turn was handled) each
 * session writes everything it queued with one socket write. Several updates that arrive in one
 * turn thus cost each receiver one write instead of one per update, and a broadcast is framed
 * once for all its receivers rather than once per receiver.
 *
 * Order per connection is the order of `send` calls, since every message of a session goes
 * through its one queue; who receives what is still decided by the Room (never its sender).
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { frame, frameHeader } from './wsFrame';

/** A connection with messages queued for this turn. */
export interface QueuedSender {
  /** Writes what it queued (or drops it if the connection closed meanwhile). */
  flushQueued(): void;
}

/** Messages up to this size are framed by copying into one buffer; larger ones are written as header + payload. */
const COPY_LIMIT = 64 * 1024;

export class SendBatcher {
  private due: QueuedSender[] = [];
  private tasks: (() => void)[] = [];
  private scheduled = false;
  private flushing = false;
  /** Frames built during the current flush, by message: a broadcast is framed once. */
  private readonly framed = new Map<Uint8Array, Buffer>();

  constructor(private readonly log: Logger) {}

  /** Flushes `sender` at the end of this event-loop turn. Call once per turn, when its queue becomes non-empty. */
  schedule(sender: QueuedSender): void {
    this.due.push(sender);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushAll);
  }

  /**
   * Runs `task` at the end of this turn, before sessions write: a room sends what it collected
   * during the turn (presence changes) so that it joins the same write.
   */
  beforeFlush(task: () => void): void {
    this.tasks.push(task);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushAll);
  }

  /**
   * Writes `messages` to `socket` as WebSocket frames, in order, with one write when they fit in
   * one buffer. The socket must carry a WebSocket with no extension negotiated.
   */
  write(socket: Duplex, messages: readonly Uint8Array[]): void {
    if (messages.length === 1) {
      this.writeOne(socket, messages[0]!);
      return;
    }
    let total = 0;
    for (const message of messages) total += message.byteLength + 10;
    if (total <= COPY_LIMIT) {
      const frames = messages.map((message) => this.frameOf(message));
      socket.write(Buffer.concat(frames));
      return;
    }
    socket.cork();
    for (const message of messages) {
      if (message.byteLength <= COPY_LIMIT) socket.write(this.frameOf(message));
      else writeLarge(socket, message);
    }
    socket.uncork();
  }

  /** `write` for a single message. */
  writeOne(socket: Duplex, message: Uint8Array): void {
    if (message.byteLength <= COPY_LIMIT) socket.write(this.frameOf(message));
    else writeLarge(socket, message);
  }

  private frameOf(message: Uint8Array): Buffer {
    // Outside a flush (a session flushing as it closes) nothing would clear the cache: no caching.
    if (!this.flushing) return frame(message);
    let framed = this.framed.get(message);
    if (framed === undefined) {
      framed = frame(message);
      this.framed.set(message, framed);
    }
    return framed;
  }

  private readonly flushAll = (): void => {
    this.scheduled = false;
    const tasks = this.tasks;
    this.tasks = [];
    // One failure must not strand everyone else's queue (nothing would flush it again).
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        this.log.error({ err }, 'a turn-end task failed');
      }
    }
    const due = this.due;
    this.due = [];
    this.flushing = true;
    for (const sender of due) {
      try {
        sender.flushQueued();
      } catch (err) {
        this.log.error({ err }, 'flushing a connection failed');
      }
    }
    this.flushing = false;
    this.framed.clear();
  };
}

function writeLarge(socket: Duplex, message: Uint8Array): void {
  socket.cork();
  socket.write(frameHeader(message.byteLength));
  socket.write(message);
  socket.uncork();
}
