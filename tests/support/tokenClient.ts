/**
 * A headless client of one region for the set checker (tests/support/setChecker.ts). It writes
 * unique tokens into one document and records each one in a WriteHistory: when it was sent, when
 * the region said it was stored, and when this client first saw any token. Each write is one
 * transaction. It pushes the token onto the Y.Array `tokens`, which is what the checker counts.
 * It also appends the token to the title and trims the title's start, so replicas also take
 * deletions, which no state vector shows but the digest does.
 *
 * "Stored" comes from Concord's stored-ack extension (type 100, lib/protocol/ackExtension.ts):
 * after every write to storage the relay sends the state vector it has stored. Writes here only
 * insert, so a token is stored once that vector covers this client's clock after the write.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { ACK_MESSAGE_TYPE, CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, DIGEST_MESSAGE_TYPE, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import { TITLE_TEXT } from '../../lib/documents/dataModel';
import { connectClient, type NodeClient } from './nodeClient';
import type { WriteHistory } from './setChecker';

export const TOKENS_ARRAY = 'tokens';
/** The title keeps about its last this many characters (older ones are deleted). */
const TITLE_WINDOW = 120;
/** Redial a restarted region quickly: y-websocket's default backs off up to 2.5 s. */
const MAX_BACKOFF_MS = 1000;

export interface TokenClientOptions {
  region: string;
  wsUrl: string;
  docId: string;
  token: string;
  history: WriteHistory;
}

export class TokenClient {
  readonly region: string;
  readonly docId: string;
  private readonly client: NodeClient;
  private readonly history: WriteHistory;
  /** Tokens written here and not yet acked, with this client's clock after each. */
  private readonly pending = new Map<string, number>();
  private readonly array: Y.Array<string>;

  constructor(options: TokenClientOptions) {
    this.region = options.region;
    this.docId = options.docId;
    this.history = options.history;
    this.client = connectClient(options.wsUrl, options.docId, options.token, new Y.Doc(), {
      [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION),
    });
    const provider = this.client.provider;
    provider.maxBackoffTime = MAX_BACKOFF_MS;
    provider.messageHandlers[ACK_MESSAGE_TYPE] = (_encoder, decoder) => this.onStored(decoding.readVarUint8Array(decoder));
    // This client sends no marks or digest checks; a relay never sends either unasked.
    provider.messageHandlers[MARK_MESSAGE_TYPE] = () => undefined;
    provider.messageHandlers[DIGEST_MESSAGE_TYPE] = () => undefined;
    this.array = this.client.doc.getArray<string>(TOKENS_ARRAY);
    this.array.observe((event) => {
      const at = Date.now();
      for (const item of event.changes.added) {
        for (const token of item.content.getContent() as string[]) this.history.seen(token, this.region, at);
      }
    });
  }

  get doc(): Y.Doc {
    return this.client.doc;
  }

  get synced(): Promise<void> {
    return this.client.synced;
  }

  /** Whether the socket to the region is open now. */
  get connected(): boolean {
    return this.client.provider.wsconnected;
  }

  /** Writes `token` (works offline too: the provider sends it on reconnecting). */
  write(token: string): void {
    this.history.sent(token, this.docId, this.region);
    const doc = this.client.doc;
    doc.transact(() => {
      this.array.push([token]);
      const title = doc.getText(TITLE_TEXT);
      title.insert(title.length, `${token} `);
      if (title.length > TITLE_WINDOW) title.delete(0, title.length - TITLE_WINDOW);
    });
    this.pending.set(token, Y.getState(doc.store, doc.clientID));
  }

  /** Tokens written here that the region has not acked yet. */
  pendingTokens(): string[] {
    return Array.from(this.pending.keys());
  }

  tokens(): string[] {
    return this.array.toArray();
  }

  destroy(): void {
    this.client.destroy();
  }

  private onStored(encodedStateVector: Uint8Array): void {
    const stored = Y.decodeStateVector(encodedStateVector).get(this.client.doc.clientID) ?? 0;
    const at = Date.now();
    for (const [token, clock] of this.pending) {
      if (stored >= clock) {
        this.history.acked(token, at);
        this.pending.delete(token);
      }
    }
  }
}
