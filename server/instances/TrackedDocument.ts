/**
 * What one instance keeps about a document it has loaded, for the bus between instances: the
 * room (null while loading, when arriving messages are buffered), how far it has read storage,
 * its own outgoing sequence, each sender's last sequence seen (gap detection), and the presence
 * it forwards for its own clients (answered when another instance asks).
 */
import * as decoding from 'lib0/decoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { AccessState } from '../../lib/auth/capabilities';
import type { Room } from '../relay/Room';
import type { DocumentMessage } from './busFrames';

/** Messages kept while the document loads; beyond this they are dropped (storage has them). */
const MAX_BUFFERED = 1000;

export class TrackedDocument {
  room: Room | null = null;
  /** Messages that arrived while the room was loading, applied once it is loaded. */
  private buffer: DocumentMessage[] = [];
  /** Buffered messages were dropped: the load must be followed by a read of storage. */
  overflowed = false;
  /** When the current load started (a load that never finishes is given up after a while). */
  loadingSince = Date.now();
  /** Every stored entry through this sequence number is in the room's document. */
  storedThrough = 0;
  /** The access state last acted on (null until read after the load). */
  access: AccessState | null = null;
  /** Our own messages for this document: a new random epoch per load, seq from 1. */
  epoch = 0;
  private seq = 0;
  /** Per sender: the epoch and last seq seen. */
  private readonly senders = new Map<string, { epoch: number; seq: number }>();
  /** Awareness client ids whose presence this instance forwarded (its own clients'). */
  readonly forwardedPresence = new Set<number>();
  /** A read of storage is running / was asked for while it ran. */
  reconciling: Promise<void> | null = null;
  reconcileAgain = false;
  /** The next read of storage recovers what the document lacks at once (a loss was detected). */
  lossLikely = false;
  /** The last read found stored entries the document lacked and left them for the next read. */
  behindStorage = false;
  followUp: NodeJS.Timeout | null = null;

  constructor(readonly docId: string) {}

  /** A new load starts: buffer until `attach`. */
  loading(): void {
    this.room = null;
    this.buffer = [];
    this.overflowed = false;
    this.loadingSince = Date.now();
  }

  /** The room is loaded: returns what was buffered meanwhile, to be handled in order. */
  attach(room: Room): DocumentMessage[] {
    this.room = room;
    this.storedThrough = room.saver.lastSeq;
    this.access = null;
    this.behindStorage = false;
    this.epoch = 1 + Math.floor(Math.random() * 0x7fff_ffff);
    this.seq = 0;
    this.forwardedPresence.clear();
    const buffered = this.buffer;
    this.buffer = [];
    return buffered;
  }

  /** Keeps a message that arrived during the load; false when the buffer is full (dropped). */
  hold(message: DocumentMessage): boolean {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.overflowed = true;
      return false;
    }
    this.buffer.push(message);
    return true;
  }

  get isLive(): boolean {
    return this.room !== null && !this.room.isDestroyed;
  }

  /** The (epoch, seq) of our next message: unsequenced (0, 0) when the document is not loaded. */
  nextSequence(): { epoch: number; seq: number } {
    return this.isLive ? { epoch: this.epoch, seq: ++this.seq } : { epoch: 0, seq: 0 };
  }

  /**
   * Records a received message's sequence; true when messages from its sender were skipped (a
   * gap): the first message of a new epoch must be 1, any other the one after the last seen.
   * The first message seen from a sender says nothing: what came before is in what we loaded.
   */
  gapBefore(message: DocumentMessage): boolean {
    if (message.epoch === 0) return false;
    const last = this.senders.get(message.sender);
    this.senders.set(message.sender, { epoch: message.epoch, seq: Math.max(message.seq, last?.epoch === message.epoch ? last.seq : 0) });
    if (!last) return false;
    if (last.epoch !== message.epoch) return message.seq !== 1;
    return message.seq > last.seq + 1;
  }

  /** Forget what was seen of senders (after our subscription was down: gaps are certain, not detectable). */
  forgetSenders(sender?: string): void {
    if (sender === undefined) this.senders.clear();
    else this.senders.delete(sender);
  }

  /** The presence this instance forwarded that `room` still holds, as one awareness update (null: none). */
  forwardedPresenceOf(room: Room): Uint8Array | null {
    const clients = Array.from(this.forwardedPresence).filter((id) => room.awareness.getStates().has(id));
    return clients.length > 0 ? awarenessProtocol.encodeAwarenessUpdate(room.awareness, clients) : null;
  }

  /** Notes which clients' presence an outgoing awareness update carries (null state: gone). */
  notePresence(update: Uint8Array): void {
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      decoding.readVarUint(decoder); // clock
      if (decoding.readVarString(decoder) === 'null') this.forwardedPresence.delete(clientId);
      else this.forwardedPresence.add(clientId);
    }
  }
}
