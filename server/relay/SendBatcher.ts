/**
 * Batches what the relay sends. A session queues its outgoing messages; once the task that queued
 * them is over (a microtask: after the socket read being handled, with every frame it carried) each
 * session writes everything it queued with one socket write. Several updates that arrive in one
 * read thus cost each receiver one write instead of one per update, and a broadcast is framed
 * once for all its receivers rather than once per receiver.
 *
 * Why not wait for the end of the event-loop turn (setImmediate), which would also merge the reads
 * of other sockets in the same turn: at typing rates updates from different sockets almost never
 * share a turn, so waiting only delays every delivery by the rest of the poll phase. Measured with
 * the benchmark's load generator (6 runs each, 1 × 200 and 1 × 500 clients), this costs 4–10% less
 * CPU per delivery at equal latency. Work that is worth a turn of waiting (presence, whose stock
 * clients echo every message) goes through `atTurnEnd`.
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
  private turnEndTasks: (() => void)[] = [];
  private scheduled = false;
  private turnEndScheduled = false;
  private flushing = false;
  /** Frames built during the current flush, by message: a broadcast is framed once. */
  private readonly framed = new Map<Uint8Array, Buffer>();

  constructor(private readonly log: Logger) {}

  /** Flushes `sender` when the current task is over. Call once per flush, when its queue becomes non-empty. */
  schedule(sender: QueuedSender): void {
    this.due.push(sender);
    this.scheduleFlush();
  }

  /**
   * Runs `task` when the current task is over, before sessions write: a room sends the updates it
   * collected (merged) so that they join the same write.
   */
  beforeFlush(task: () => void): void {
    this.tasks.push(task);
    this.scheduleFlush();
  }

  /**
   * Runs `task` at the end of this event-loop turn (setImmediate), after every socket read of the
   * turn was handled; what it sends is written right after it.
   */
  atTurnEnd(task: () => void): void {
    this.turnEndTasks.push(task);
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    setImmediate(this.runTurnEnd);
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

  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flushAll);
  }

  private readonly runTurnEnd = (): void => {
    this.turnEndScheduled = false;
    const tasks = this.turnEndTasks;
    this.turnEndTasks = [];
    this.runTasks(tasks);
  };

  private runTasks(tasks: (() => void)[]): void {
    // One failure must not strand everyone else's queue (nothing would flush it again).
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        this.log.error({ err }, 'a batched send task failed');
      }
    }
  }

  private readonly flushAll = (): void => {
    const tasks = this.tasks;
    this.tasks = [];
    // Still `scheduled` while the tasks run: the sessions they queue join this flush instead of
    // arming another (empty) one per read.
    this.runTasks(tasks);
    this.scheduled = false;
    if (this.tasks.length > 0) this.scheduleFlush();
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
