/**
 * Compares this replica with the server's (protocol extension v2, message 102): a state vector
 * cannot show deletions or content integrated differently, so when everything here is saved and
 * the two state vectors are equal, equal digests are what proves the replicas agree. On a split,
 * both sides exchange full state (sync step 1 with an empty state vector each way), which brings
 * back whatever deletion or content either one lacked. Framework-free: browser and Node tests.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import type * as decoding from 'lib0/decoding';
import * as lib0decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import type { WebsocketProvider } from 'y-websocket';
import { DIGEST_MESSAGE_TYPE, encodeDigestCheck } from '../protocol/ackExtension';
import { documentDigest, equalBytes } from '../protocol/documentDigest';
import { MessageType } from '../protocol/messageTypes';

/** At most one check in this long, however often the replica settles. */
export const CHECK_INTERVAL_MS = 2_000;

export class ReplicaCheck {
  /** Splits seen (and repaired) on this page. */
  splitsDetected = 0;
  /** Checks answered, for tests and diagnostics. */
  checksAnswered = 0;
  private lastSent = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly provider: WebsocketProvider,
  ) {
    provider.messageHandlers[DIGEST_MESSAGE_TYPE] = (_encoder, decoder) => this.onAnswer(decoder);
  }

  /** Called when every local edit is stored (and on every sync): checks soon, at most once per interval. */
  settled(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastSent + CHECK_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send();
    }, wait);
  }

  /** Sends a check now (if connected and synced). */
  send(): void {
    const ws = this.provider.ws;
    if (!this.provider.wsconnected || !this.provider.synced || ws === null || ws.readyState !== ws.OPEN) return;
    this.lastSent = Date.now();
    ws.send(encodeDigestCheck(Y.encodeStateVector(this.doc), documentDigest(this.doc)));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  private onAnswer(decoder: decoding.Decoder): void {
    const stateVector = lib0decoding.readVarUint8Array(decoder);
    const digest = lib0decoding.readVarUint8Array(decoder);
    this.checksAnswered++;
    // Compared with the replica as it is now: if it moved on since, the next check will tell.
    if (equalBytes(stateVector, Y.encodeStateVector(this.doc)) && !equalBytes(digest, documentDigest(this.doc))) {
      this.splitsDetected++;
      console.warn('Concord: this replica and the server\'s differ with equal state vectors; exchanging full state to repair');
      this.exchangeFullState();
    }
    for (const listener of this.listeners) listener();
  }

  private exchangeFullState(): void {
    const ws = this.provider.ws;
    if (ws === null || ws.readyState !== ws.OPEN) return;
    const ask = encoding.createEncoder();
    encoding.writeVarUint(ask, MessageType.sync);
    syncProtocol.writeSyncStep1(ask, new Y.Doc());
    ws.send(encoding.toUint8Array(ask));
    const give = encoding.createEncoder();
    encoding.writeVarUint(give, MessageType.sync);
    syncProtocol.writeSyncStep2(give, this.doc);
    ws.send(encoding.toUint8Array(give));
  }
}
