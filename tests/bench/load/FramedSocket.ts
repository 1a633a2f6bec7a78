/**
 * A client socket to any of the compared servers: the server's framing around y-websocket
 * messages, and the sync handshake a stock client does (send step 1, answer the server's step 1
 * with step 2, synced at the server's step 2). Document updates go to `onUpdate`.
 */
import WebSocket, { type RawData } from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { MessageType } from '../../../lib/protocol/messageTypes';
import type { BenchDocument, Framing } from './framing';

const EMPTY_DOC = new Y.Doc();

export interface FramedSocketOptions {
  framing: Framing;
  doc: BenchDocument;
  /** Extra upgrade headers (X-Forwarded-For for a server behind a proxy). */
  headers?: Record<string, string>;
  /** The client's replica, to answer the server's sync step 1 (empty when null). */
  state?: () => Y.Doc | null;
  /** Every document update received (sync step 2 or update), with its arrival time. */
  onUpdate?: (update: Uint8Array, arrivedAt: number) => void;
  /** Every frame received, after it was handled. */
  onFrame?: () => void;
}

export class FramedSocket {
  /** Socket created → synced (ms); NaN until ready. */
  setupMs = Number.NaN;
  /** Close code when the server closed the socket after it was ready; null otherwise. */
  closedAfterReady: number | null = null;
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private readonly started = performance.now();
  private isReady = false;
  private resolveReady: () => void = () => undefined;

  constructor(private readonly options: FramedSocketOptions) {
    this.ws = new WebSocket(options.framing.url(options.doc), { perMessageDeflate: false, headers: options.headers });
    this.ws.binaryType = 'nodebuffer';
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.ws.on('error', reject);
      this.ws.on('close', (code, reason) => {
        if (this.isReady) this.closedAfterReady = code;
        else reject(new Error(`closed before sync (code ${code}${reason.length ? `, ${reason.toString()}` : ''})`));
      });
    });
    this.ready.catch(() => undefined); // Callers that never await it must not crash the process.
    this.ws.on('open', this.onOpen);
    this.ws.on('message', this.onMessage);
  }

  /** Sends one y-websocket message (dropped once the socket is closed). */
  send(message: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.options.framing.wrap(this.options.doc, message));
  }

  close(): void {
    this.ws.terminate();
  }

  private markReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    this.setupMs = performance.now() - this.started;
    this.resolveReady();
  }

  private readonly onOpen = (): void => {
    const { framing, doc } = this.options;
    for (const frame of framing.preamble(doc)) this.ws.send(frame);
    if (!framing.handshake) {
      this.markReady();
      return;
    }
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MessageType.sync);
    syncProtocol.writeSyncStep1(encoder, this.options.state?.() ?? EMPTY_DOC);
    this.send(encoding.toUint8Array(encoder));
  };

  private readonly onMessage = (data: RawData): void => {
    const arrivedAt = performance.now();
    this.handle(this.options.framing.unwrap(new Uint8Array(data as Buffer)), arrivedAt);
    this.options.onFrame?.();
  };

  private handle(message: Uint8Array | null, arrivedAt: number): void {
    if (message === null) return;
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MessageType.sync) return; // presence is not measured
    const step = decoding.readVarUint(decoder);
    if (step === syncProtocol.messageYjsSyncStep1) {
      // Answer as a stock client does: send what the server lacks.
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MessageType.sync);
      syncProtocol.writeSyncStep2(encoder, this.options.state?.() ?? EMPTY_DOC, decoding.readVarUint8Array(decoder));
      this.send(encoding.toUint8Array(encoder));
      return;
    }
    this.options.onUpdate?.(decoding.readVarUint8Array(decoder), arrivedAt);
    if (step === syncProtocol.messageYjsSyncStep2) this.markReady();
  }
}
