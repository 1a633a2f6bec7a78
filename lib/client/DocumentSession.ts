/**
 * One open document in the browser: its Y.Doc replica, kept in IndexedDB so edits survive
 * reloads and a server that cannot be reached, the relay connection, and the connection status
 * the UI shows. Framework-free; the React editor subscribes to it.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import { BODY_FRAGMENT, TITLE_TEXT } from '../documents/dataModel';
import {
  applyConnectionEvent,
  describeConnection,
  INITIAL_FACTS,
  shouldConnect,
  type ConnectionEvent,
  type ConnectionFacts,
  type StatusView,
} from './connectionStatus';
import type { Identity } from './identity';

export class DocumentSession {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  /** The local replica on this device. */
  private readonly local: IndexeddbPersistence;
  private facts: ConnectionFacts;
  private view: StatusView;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly docId: string,
    readonly token: string,
    relayUrl: string,
    identity: Identity,
    readonly canEdit: boolean,
  ) {
    const online = typeof navigator === 'undefined' ? true : navigator.onLine;
    this.facts = { ...INITIAL_FACTS, online };
    this.view = describeConnection(this.facts);
    this.local = new IndexeddbPersistence(localReplicaName(docId), this.doc);
    this.provider = new WebsocketProvider(relayUrl, docId, this.doc, { params: { token }, connect: online, maxBackoffTime: 5000 });
    this.setIdentity(identity);
    this.provider.on('status', this.onStatus);
    this.provider.on('sync', this.onSync);
    this.provider.on('closed', this.onClosed);
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  get fragment(): Y.XmlFragment {
    return this.doc.getXmlFragment(BODY_FRAGMENT);
  }

  get title(): Y.Text {
    return this.doc.getText(TITLE_TEXT);
  }

  get status(): StatusView {
    return this.view;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setIdentity(identity: Identity): void {
    this.provider.awareness.setLocalStateField('user', { ...identity, role: this.canEdit ? 'editor' : 'viewer' });
  }

  /** Try again now, e.g. from a "Reconnect" button. */
  reconnect(): void {
    if (!shouldConnect(this.facts)) return;
    this.provider.disconnect();
    this.provider.connect();
  }

  destroy(): void {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.provider.off('status', this.onStatus);
    this.provider.off('sync', this.onSync);
    this.provider.off('closed', this.onClosed);
    this.provider.destroy();
    void this.local.destroy();
    this.doc.destroy();
    this.listeners.clear();
  }

  private update(event: ConnectionEvent): void {
    this.facts = applyConnectionEvent(this.facts, event);
    const next = describeConnection(this.facts);
    if (next.status === this.view.status && next.text === this.view.text) return;
    this.view = next;
    for (const listener of this.listeners) listener();
  }

  private readonly onStatus = ({ status }: { status: ConnectionFacts['socket'] }) => {
    this.update({ type: 'socket', status, providerSynced: this.provider.synced });
  };

  private readonly onSync = (synced: boolean) => this.update({ type: 'sync', synced });

  private readonly onClosed = (event: { code: number; reason: string }) => {
    this.update({ type: 'closed', code: event.code, reason: event.reason });
  };

  // Chromium keeps sockets open while "offline" (frames are held), so react to the browser's
  // own signal: drop the socket now and reconnect at once when the network is back.
  private readonly onOffline = () => {
    this.update({ type: 'network', online: false });
    this.provider.disconnect();
  };

  private readonly onOnline = () => {
    this.update({ type: 'network', online: true });
    if (shouldConnect(this.facts)) this.provider.connect();
  };
}

/** The IndexedDB database holding a document's local replica. */
export function localReplicaName(docId: string): string {
  return `concord:${docId}`;
}

/** Deletes this device's replica of a document ("Forget on this device"). */
export async function forgetLocalReplica(docId: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(localReplicaName(docId));
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('could not delete the local replica'));
    // Another tab still has it open: it is deleted once that tab closes it.
    request.onblocked = () => resolve();
  });
}
