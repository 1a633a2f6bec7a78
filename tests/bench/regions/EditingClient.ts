/**
 * A headless Concord client that edits one document and can wait until its edits are stored:
 * Concord's stored-ack extension (`?concord=1`, lib/protocol/ackExtension.ts), a mark after the
 * edits, answered once everything sent before it is in the region's storage. The catch-up
 * benchmark writes its 1,000 documents with it, so "changed" means "stored in that region".
 * Its replica is live: what the relay sends (another region's changes too) is applied to it.
 */
import WebSocket, { type RawData } from 'ws';
import * as Y from 'yjs';
import { CONCORD_PROTOCOL_PARAM, encodeMark } from '../../../lib/protocol/ackExtension';
import { decodeRelayMessage } from '../../../lib/protocol/decode';
import { encodeSyncStep1, encodeSyncStep2, encodeUpdateMessage } from '../../../lib/protocol/encode';
import { BODY_FRAGMENT } from '../../../lib/documents/dataModel';

/** Transaction origin of what the relay sent (never sent back). */
const REMOTE = Symbol('remote');

export interface EditingClientOptions {
  /** ws://host:port/ws of the region. */
  wsUrl: string;
  docId: string;
  token: string;
  headers?: Record<string, string>;
}

export class EditingClient {
  readonly doc = new Y.Doc();
  /** Document updates received from the relay after the first sync (a peer region's catch-up shows here). */
  updatesReceived = 0;
  /** Close code when the relay closed the socket; null while open. */
  closedWith: number | null = null;
  private readonly ws: WebSocket;
  private readonly synced: Promise<void>;
  private readonly marks = new Map<number, () => void>();
  private nextMark = 1;
  private isSynced = false;

  private constructor(options: EditingClientOptions) {
    const url = `${options.wsUrl}/${options.docId}?token=${options.token}&${CONCORD_PROTOCOL_PARAM}=1`;
    this.ws = new WebSocket(url, { perMessageDeflate: false, headers: options.headers });
    this.ws.binaryType = 'nodebuffer';
    this.synced = new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('close', (code) => {
        this.closedWith = code;
        reject(new Error(`closed before sync (code ${code})`));
        for (const settle of this.marks.values()) settle();
        this.marks.clear();
      });
      this.ws.on('open', () => this.ws.send(encodeSyncStep1(this.doc)));
      this.ws.on('message', (data: RawData) => {
        if (this.receive(new Uint8Array(data as Buffer))) resolve();
      });
    });
    this.synced.catch(() => undefined); // open() awaits it; a later close must not crash the process.
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeUpdateMessage(update));
    });
  }

  /** Connects and resolves once the first sync with the relay is complete. */
  static async open(options: EditingClientOptions): Promise<EditingClient> {
    const client = new EditingClient(options);
    try {
      await client.synced;
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** Appends a paragraph to the body, in one transaction (one update on the wire). */
  appendParagraph(text: string): void {
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText(text)]);
    const body = this.doc.getXmlFragment(BODY_FRAGMENT);
    body.insert(body.length, [paragraph]);
  }

  /** Resolves once everything sent so far is stored by the relay; rejects if the socket closes first. */
  untilStored(): Promise<void> {
    if (this.closedWith !== null) return Promise.reject(new Error(`closed (code ${this.closedWith}) before the edits were stored`));
    const id = this.nextMark++;
    return new Promise<void>((resolve, reject) => {
      this.marks.set(id, () => (this.closedWith === null ? resolve() : reject(new Error(`closed (code ${this.closedWith}) before the edits were stored`))));
      this.ws.send(encodeMark(id));
    });
  }

  close(): void {
    this.ws.terminate();
    this.doc.destroy();
  }

  /** Handles one relay frame; returns true when it completed the first sync. */
  private receive(frame: Uint8Array): boolean {
    const message = decodeRelayMessage(frame);
    switch (message.type) {
      case 'syncStep1':
        this.ws.send(encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, message.stateVector)));
        return false;
      case 'syncStep2':
      case 'update':
        Y.applyUpdate(this.doc, message.update, REMOTE);
        if (this.isSynced) this.updatesReceived++;
        if (message.type === 'syncStep2' && !this.isSynced) {
          this.isSynced = true;
          return true;
        }
        return false;
      case 'markStored': {
        const settle = this.marks.get(message.id);
        this.marks.delete(message.id);
        settle?.();
        return false;
      }
      case 'awareness':
      case 'permissionDenied':
      case 'storedAck':
      case 'digestCheck':
        return false;
    }
  }
}
