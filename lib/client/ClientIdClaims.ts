/**
 * The editor's side of client-id claims (lib/protocol/clientClaims.ts): before this replica's
 * changes under a Yjs client id reach the relay, the relay gets that id with this replica's secret
 * for it, so that nobody who merely saw the id can write its history. Secrets are kept per
 * document in local storage: edits typed offline under an id (and kept in IndexedDB) are claimed
 * on the next connection, after a reload too. Framework-free: browser and Node tests.
 */
import * as Y from 'yjs';
import { fromBase64, toBase64 } from 'lib0/buffer';
import type { WebsocketProvider } from 'y-websocket';
import { encodeClientClaim } from '../protocol/clientClaims';
import type { KeyValueStorage } from './browserStorage';

/** Ids remembered per document: a page load uses one, so this covers many reloads offline. */
export const REMEMBERED_IDS = 64;
const SECRET_BYTES = 16;

export function claimsStorageKey(docId: string): string {
  return `concord:client-ids:${docId}`;
}

export class ClientIdClaims {
  /** Secrets by client id, oldest first (the order they are dropped in). */
  private readonly secrets = new Map<number, Uint8Array>();
  /** Ids claimed on the current connection. */
  private readonly claimedHere = new Set<number>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly provider: WebsocketProvider,
    private readonly storage: KeyValueStorage,
    private readonly docId: string,
  ) {
    this.load();
    // 'status' is emitted in the socket's open handler before the provider sends sync step 1,
    // and 'afterTransactionCleanup' before the document's 'update' (which the provider sends):
    // so every claim precedes the first change of its id on each connection.
    provider.on('status', this.onStatus);
    doc.on('afterTransactionCleanup', this.onTransaction);
  }

  destroy(): void {
    this.provider.off('status', this.onStatus);
    this.doc.off('afterTransactionCleanup', this.onTransaction);
  }

  /** The ids this replica holds secrets for (tests, diagnostics). */
  get ids(): number[] {
    return Array.from(this.secrets.keys());
  }

  private readonly onStatus = ({ status }: { status: string }): void => {
    this.claimedHere.clear();
    if (status !== 'connected') return;
    // Another tab of this document may have added ids (and shares its edits with us).
    this.load();
    // Everything of ours this replica holds is sent in the sync that follows: claim it first.
    for (const id of this.secrets.keys()) if (Y.getState(this.doc.store, id) > 0) this.claim(id);
  };

  private readonly onTransaction = (transaction: Y.Transaction): void => {
    const advanced = (id: number) => (transaction.afterState.get(id) ?? 0) !== (transaction.beforeState.get(id) ?? 0);
    // A local edit under the current id (Yjs picks a new one when a remote change used ours).
    if (transaction.local && advanced(transaction.doc.clientID) && !this.secrets.has(transaction.doc.clientID)) {
      this.remember(transaction.doc.clientID);
    }
    for (const id of this.secrets.keys()) if (!this.claimedHere.has(id) && advanced(id)) this.claim(id);
  };

  private claim(id: number): void {
    const ws = this.provider.ws;
    if (!this.provider.wsconnected || ws === null || ws.readyState !== ws.OPEN) return;
    ws.send(encodeClientClaim(id, this.secrets.get(id)!));
    this.claimedHere.add(id);
  }

  private remember(id: number): void {
    const secret = new Uint8Array(SECRET_BYTES);
    globalThis.crypto.getRandomValues(secret);
    // Other tabs of this document share the storage: keep what they added since we read it.
    this.load();
    this.secrets.delete(id);
    this.secrets.set(id, secret);
    while (this.secrets.size > REMEMBERED_IDS) this.secrets.delete(this.secrets.keys().next().value!);
    this.save();
  }

  private load(): void {
    const raw = this.storage.getItem(claimsStorageKey(this.docId));
    if (raw === null) return;
    try {
      const entries = JSON.parse(raw) as unknown;
      if (!Array.isArray(entries)) return;
      for (const entry of entries) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[1] !== 'string') continue;
        if (!this.secrets.has(entry[0])) this.secrets.set(entry[0], fromBase64(entry[1]));
      }
    } catch (err) {
      console.warn('concord: ignoring unreadable client-id secrets', err);
    }
  }

  private save(): void {
    const entries = Array.from(this.secrets, ([id, secret]) => [id, toBase64(secret)]);
    this.storage.setItem(claimsStorageKey(this.docId), JSON.stringify(entries));
  }
}
