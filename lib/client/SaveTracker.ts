/**
 * Counts this replica's edits that the server has not yet durably stored, using Concord's
 * protocol extension (lib/protocol/ackExtension.ts): after the provider sends local edits, we
 * send a mark; the relay answers it once everything this connection sent before it is stored.
 * An edit is one local transaction that changed the document. Framework-free: runs in the
 * browser and in Node tests.
 */
import type * as Y from 'yjs';
import type * as decoding from 'lib0/decoding';
import * as lib0decoding from 'lib0/decoding';
import type { WebsocketProvider } from 'y-websocket';
import { ACK_MESSAGE_TYPE, encodeMark, MARK_MESSAGE_TYPE } from '../protocol/ackExtension';

export interface SaveTrackerOptions {
  /** Transactions from these origins are not this replica's edits (the relay, the local store). */
  isRemoteOrigin(origin: unknown): boolean;
  /** Unsaved edits left by an earlier page on this device (they are in the local replica). */
  carriedOver?: number;
}

export class SaveTracker {
  /** Edits made here (plus those carried over), ever. */
  private edits: number;
  /** The first `saved` of them are durably stored on the server. */
  private saved = 0;
  private nextMarkId = 1;
  /** Open marks: id → edits they cover. Forgotten when the socket closes (a new one re-marks). */
  private readonly marks = new Map<number, number>();
  private markQueued = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly provider: WebsocketProvider,
    private readonly options: SaveTrackerOptions,
  ) {
    this.edits = options.carriedOver ?? 0;
    // Registered after the provider's own listener, so an edit is already sent when we see it.
    doc.on('update', this.onUpdate);
    provider.on('sync', this.onSync);
    provider.on('status', this.onStatus);
    provider.messageHandlers[MARK_MESSAGE_TYPE] = (_encoder, decoder) => this.onMarkStored(decoder);
    // The stored state vector alone cannot show deletions; the marks are what we count on.
    provider.messageHandlers[ACK_MESSAGE_TYPE] = (_encoder, decoder) => void lib0decoding.readVarUint8Array(decoder);
  }

  /** Local edits not yet confirmed stored by the server. */
  get unsaved(): number {
    return this.edits - this.saved;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    this.doc.off('update', this.onUpdate);
    this.provider.off('sync', this.onSync);
    this.provider.off('status', this.onStatus);
    this.listeners.clear();
  }

  private readonly onUpdate = (_update: Uint8Array, origin: unknown) => {
    if (origin === this.provider || this.options.isRemoteOrigin(origin)) return;
    this.edits++;
    this.changed();
    // Several edits in one tick share one mark.
    if (this.provider.synced && !this.markQueued) {
      this.markQueued = true;
      queueMicrotask(() => {
        this.markQueued = false;
        this.sendMark();
      });
    }
  };

  // The relay sends its sync step 1 first, so by the time its step 2 marks us synced we have
  // answered with everything it lacked (edits made offline included): one mark covers them all.
  private readonly onSync = (synced: boolean) => {
    if (synced) this.sendMark();
  };

  private readonly onStatus = ({ status }: { status: string }) => {
    if (status !== 'connected') this.marks.clear();
  };

  private sendMark(): void {
    const ws = this.provider.ws;
    if (!this.provider.wsconnected || !this.provider.synced || ws === null || ws.readyState !== ws.OPEN) return;
    if (this.unsaved === 0) return;
    const id = this.nextMarkId++;
    this.marks.set(id, this.edits);
    ws.send(encodeMark(id));
  }

  private onMarkStored(decoder: decoding.Decoder): void {
    const id = lib0decoding.readVarUint(decoder);
    lib0decoding.readVarUint8Array(decoder);
    const covered = this.marks.get(id);
    if (covered === undefined) return;
    for (const open of this.marks.keys()) if (open <= id) this.marks.delete(open);
    if (covered > this.saved) {
      this.saved = covered;
      this.changed();
    }
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
