/**
 * Sends a room's changes to its connections: every document update to every connection except
 * the one it came from, every presence (awareness) change to everyone, the sender included.
 *
 * With a SendBatcher (the relay), changes are collected and sent in batches. Updates go out when
 * the task that applied them is over (so the updates of one socket read travel together):
 * connections that sent none of them get them merged into one update (one message to read and
 * apply instead of one per update), the senders get the others' updates one by one. Presence
 * changes wait for the end of the event-loop turn and go out as one message, after the content
 * they may point into. Without a batcher (unit tests, tools) every change is sent at once.
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from 'pino';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeAwarenessMessage, encodeUpdateMessage } from '../../lib/protocol/encode';
import type { Metrics } from '../metrics';
import type { ChangeOrigin } from './origins';
import type { RoomConnection } from './RoomConnection';
import type { SendBatcher } from './SendBatcher';

/** Updates of one turn are merged only up to this many bytes in total; beyond, each goes as it is. */
const MERGE_LIMIT_BYTES = 256 * 1024;

interface TurnUpdate {
  update: Uint8Array;
  origin: ChangeOrigin;
}

export class Fanout {
  private updates: TurnUpdate[] | null = null;
  private presence: Set<number> | null = null;
  private stopped = false;
  /** Made in the constructor, not arrow class fields: see the note in Room's constructor. */
  private readonly flushUpdates: () => void;
  private readonly flushPresence: () => void;

  constructor(
    private readonly connections: ReadonlySet<RoomConnection>,
    private readonly awareness: awarenessProtocol.Awareness,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly batcher: SendBatcher | undefined,
  ) {
    this.flushUpdates = () => this.sendCollectedUpdates();
    this.flushPresence = () => this.sendCollectedPresence();
  }

  /** A document update (as the doc's update event gives it) from `origin`. */
  update(update: Uint8Array, origin: ChangeOrigin): void {
    if (this.stopped) return;
    if (!this.batcher) {
      this.sendUpdate(update, origin);
      return;
    }
    if (this.updates === null) {
      this.updates = [];
      this.batcher.beforeFlush(this.flushUpdates);
    }
    this.updates.push({ update, origin });
  }

  /** Awareness client IDs whose state changed. */
  presenceChanged(clients: number[]): void {
    if (this.stopped || clients.length === 0) return;
    if (!this.batcher) {
      this.sendPresence(clients);
      return;
    }
    // The stock client answers every awareness message it applies with one of its own
    // (y-websocket re-sends each awareness update), so a message per change would cost every
    // client one echo per change; one message per turn costs one.
    if (this.presence === null) {
      this.presence = new Set();
      this.batcher.atTurnEnd(this.flushPresence);
    }
    for (const id of clients) this.presence.add(id);
  }

  /** Drops anything not yet sent (the room is being unloaded). */
  stop(): void {
    this.stopped = true;
    this.updates = null;
    this.presence = null;
  }

  private sendCollectedUpdates(): void {
    const updates = this.updates;
    this.updates = null;
    if (this.stopped || updates === null) return;
    this.sendUpdates(updates);
  }

  /** Runs after the turn's updates went out: presence may point into content of this same turn. */
  private sendCollectedPresence(): void {
    const presence = this.presence;
    this.presence = null;
    if (this.stopped || presence === null) return;
    this.sendPresence(Array.from(presence));
  }

  /** Encoded once for every receiver; never sent back to the connection it came from. */
  private sendUpdate(update: Uint8Array, origin: ChangeOrigin): void {
    const message = encodeUpdateMessage(update);
    let receivers = 0;
    for (const conn of this.connections) {
      if (conn.origin === origin) continue;
      conn.send(message);
      receivers++;
    }
    if (receivers > 0) this.metrics.messageOut(MessageType.sync, message.byteLength, receivers);
  }

  private sendUpdates(updates: TurnUpdate[]): void {
    if (updates.length === 1) {
      this.sendUpdate(updates[0]!.update, updates[0]!.origin);
      return;
    }
    const origins = new Set<ChangeOrigin>();
    let bytes = 0;
    for (const { update, origin } of updates) {
      origins.add(origin);
      bytes += update.byteLength;
    }
    const merged = bytes <= MERGE_LIMIT_BYTES ? this.merge(updates) : null;
    let individually: Uint8Array[] | null = null;
    let mergedReceivers = 0;
    for (const conn of this.connections) {
      if (merged !== null && !origins.has(conn.origin)) {
        conn.send(merged);
        mergedReceivers++;
        continue;
      }
      // A sender of this turn (or no merge): every other connection's update, in order.
      individually ??= updates.map(({ update }) => encodeUpdateMessage(update));
      for (let i = 0; i < updates.length; i++) {
        if (updates[i]!.origin === conn.origin) continue;
        conn.send(individually[i]!);
        this.metrics.messageOut(MessageType.sync, individually[i]!.byteLength);
      }
    }
    if (merged !== null && mergedReceivers > 0) this.metrics.messageOut(MessageType.sync, merged.byteLength, mergedReceivers);
  }

  /** One update message equivalent to applying `updates` in order, or null if they cannot be merged. */
  private merge(updates: TurnUpdate[]): Uint8Array | null {
    try {
      return encodeUpdateMessage(Y.mergeUpdates(updates.map(({ update }) => update)));
    } catch (err) {
      // They come from our own document's update events; if Yjs still refuses, send them one by one.
      this.log.error({ err, updates: updates.length }, 'merging updates failed; sending them one by one');
      return null;
    }
  }

  private sendPresence(clients: number[]): void {
    if (this.connections.size === 0) return;
    const message = encodeAwarenessMessage(this.awareness, clients);
    for (const conn of this.connections) conn.send(message);
    this.metrics.messageOut(MessageType.awareness, message.byteLength, this.connections.size);
  }
}
