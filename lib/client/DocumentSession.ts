/**
 * One open document in the browser: its Y.Doc replica, kept in IndexedDB so edits survive
 * reloads and a server that cannot be reached, the relay connection (to another region when the
 * page's own is unreachable: RegionSwitcher), which local edits the server has stored, and the
 * status the UI shows. Framework-free; the React editor subscribes to it.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import { BODY_FRAGMENT } from '../documents/dataModel';
import { readTitle } from '../documents/title';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, SCHEMA_PARAM } from '../protocol/ackExtension';
import { concordMap, recordedSchemaVersion, recordSchemaVersion } from '../documents/schemaVersion';
import { SCHEMA_VERSION } from '../editor/schema';
import { MAX_RETRY_MS, reconnectDelay } from './backoff';
import { SaveTracker } from './SaveTracker';
import { ReplicaCheck } from './ReplicaCheck';
import { ClientIdClaims } from './ClientIdClaims';
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
import { safeStorage } from './browserStorage';
import { readKeptEdits, writeKeptEdits } from './keptEdits';
import { RegionSwitcher } from './RegionSwitcher';
import { AUTHOR_RECORD_ORIGIN, AuthorRecorder } from './AuthorRecorder';
import { SeenChanges } from './SeenChanges';

/** y-indexeddb's object store holding the replica's updates. */
const LOCAL_UPDATES_STORE = 'updates';

/** Origin of this editor recording its schema version: synced and stored, but not a user's edit. */
const SCHEMA_RECORD_ORIGIN = { kind: 'schema-record' } as const;

/** What the status line shows: the connection's state and the region the editor is on. */
export interface SessionStatus extends StatusView {
  /** Null when the server never named its region (one server, no regions). */
  region: string | null;
}

export class DocumentSession {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  /** The local replica on this device. */
  private readonly local: IndexeddbPersistence;
  private readonly saves: SaveTracker;
  /** Compares this replica with the server's once everything is saved (digests, extension v2). */
  readonly replicaCheck: ReplicaCheck;
  /** Proves to the relay that this replica's client ids are its own (lib/protocol/clientClaims.ts). */
  private readonly claims: ClientIdClaims;
  /** Local edits made on this page, and how many of them are known to be in IndexedDB. */
  private localEdits = 0;
  private localEditsInReplica = 0;
  /** Resolves once the document's content is here: from the server or from the local replica. */
  readonly contentLoaded: Promise<void>;
  /** Which region the provider talks to; moves it to another when its region is unreachable. */
  private readonly regions: RegionSwitcher;
  private facts: ConnectionFacts;
  private view: SessionStatus;
  private readonly listeners = new Set<() => void>();
  /** Writes this editor's name and colour into the document at its first edit (editors only). */
  private readonly authorRecorder: AuthorRecorder | null;
  /** "See new changes": what others changed since this browser last showed the document. */
  readonly seenChanges: SeenChanges;

  constructor(
    readonly docId: string,
    readonly token: string,
    relayUrl: string,
    identity: Identity,
    readonly canEdit: boolean,
  ) {
    const online = typeof navigator === 'undefined' ? true : navigator.onLine;
    this.facts = { ...INITIAL_FACTS, online };
    this.view = { ...describeConnection(this.facts), region: null };
    // Listener order matters: y-indexeddb, then the provider, then us (see onLocalUpdate).
    this.local = new IndexeddbPersistence(localReplicaName(docId), this.doc);
    this.provider = new WebsocketProvider(relayUrl, docId, this.doc, {
      params: { token, [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION), [SCHEMA_PARAM]: String(SCHEMA_VERSION) },
      connect: online,
      maxBackoffTime: MAX_RETRY_MS,
    });
    // Before anything could connect: claims go first on every connection.
    this.claims = new ClientIdClaims(this.doc, this.provider, safeStorage(), docId);
    // Tabs of this browser share edits over a BroadcastChannel, with or without the server.
    if (!online) this.provider.connectBc();
    this.saves = new SaveTracker(this.doc, this.provider, {
      isRemoteOrigin: (origin) => origin === this.local || origin === SCHEMA_RECORD_ORIGIN,
      carriedOver: readKeptEdits(safeStorage(), docId),
    });
    this.replicaCheck = new ReplicaCheck(this.doc, this.provider);
    this.regions = new RegionSwitcher({
      provider: this.provider,
      homeRelayUrl: relayUrl,
      storage: safeStorage(),
      mayConnect: () => shouldConnect(this.facts) && !this.facts.outdated,
      onChange: () => this.refreshView(),
    });
    this.facts = applyConnectionEvent(this.facts, { type: 'unsaved', count: this.saves.unsaved });
    this.view = { ...describeConnection(this.facts), region: this.regions.region };
    this.contentLoaded = new Promise((resolve) => {
      this.provider.once('sync', () => resolve());
      void this.local.whenSynced.then(() => {
        if (this.fragment.length > 0 || this.title.length > 0) resolve();
      });
    });
    this.authorRecorder = canEdit ? new AuthorRecorder(this.doc, identity, isUserEdit) : null;
    this.seenChanges = new SeenChanges({
      docId, doc: this.doc, fragment: this.fragment, provider: this.provider, local: this.local, storage: safeStorage(), isUserEdit,
    });
    this.setIdentity(identity);
    this.saves.subscribe(this.onUnsavedChanged);
    this.doc.on('update', this.onLocalUpdate);
    // Created now, before any update arrives, and observed: a Y.Map observer runs before
    // y-prosemirror's deep observer of the body in the same transaction (see onConcordChanged).
    concordMap(this.doc).observe(this.onConcordChanged);
    this.local.on('synced', this.onReplicaLoaded);
    this.provider.on('status', this.onStatus);
    this.provider.on('sync', this.onSync);
    this.provider.on('closed', this.onClosed);
    this.provider.on('connection-close', this.onConnectionClose);
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('beforeunload', this.onBeforeUnload);
  }

  get fragment(): Y.XmlFragment {
    return this.doc.getXmlFragment(BODY_FRAGMENT);
  }

  /** The title shown (lib/documents/title.ts); observeTitle(session.doc, …) for its changes. */
  get title(): string {
    return readTitle(this.doc);
  }

  get status(): SessionStatus {
    return this.view;
  }

  /** The document records a newer editor schema than this one's: the editor must not bind to it. */
  get schemaOutdated(): boolean {
    return this.facts.outdated;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setIdentity(identity: Identity): void {
    this.provider.awareness.setLocalStateField('user', { ...identity, role: this.canEdit ? 'editor' : 'viewer' });
    this.authorRecorder?.setAuthor(identity);
  }

  /** Local edits the server has not confirmed as stored. */
  get unsavedEdits(): number {
    return this.saves.unsaved;
  }

  /** True when leaving now could lose edits: neither stored by the server nor in IndexedDB. */
  get hasUnprotectedEdits(): boolean {
    return this.saves.unsaved > 0 && this.localEditsInReplica < this.localEdits;
  }

  /**
   * Try again now, e.g. from a "Reconnect now" button. Also when the browser claims to be
   * offline: the user may know better, and a failed attempt costs nothing.
   */
  reconnect(): void {
    if (this.facts.refusal !== null) return;
    this.provider.disconnect();
    this.provider.connect();
  }

  destroy(): void {
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('beforeunload', this.onBeforeUnload);
    this.doc.off('update', this.onLocalUpdate);
    concordMap(this.doc).unobserve(this.onConcordChanged);
    this.local.off('synced', this.onReplicaLoaded);
    this.authorRecorder?.destroy();
    this.seenChanges.destroy();
    this.saves.destroy();
    this.replicaCheck.destroy();
    this.claims.destroy();
    this.regions.destroy();
    this.provider.off('status', this.onStatus);
    this.provider.off('sync', this.onSync);
    this.provider.off('closed', this.onClosed);
    this.provider.off('connection-close', this.onConnectionClose);
    this.provider.destroy();
    void this.local.destroy();
    this.doc.destroy();
    this.listeners.clear();
  }

  private update(event: ConnectionEvent): void {
    this.facts = applyConnectionEvent(this.facts, event);
    this.refreshView();
  }

  private refreshView(): void {
    const next = { ...describeConnection(this.facts), region: this.regions.region };
    if (next.status === this.view.status && next.text === this.view.text && next.region === this.view.region) return;
    this.view = next;
    for (const listener of this.listeners) listener();
  }

  private readonly onStatus = ({ status }: { status: ConnectionFacts['socket'] }) => {
    this.update({ type: 'socket', status, providerSynced: this.provider.synced });
  };

  private readonly onSync = (synced: boolean) => {
    this.update({ type: 'sync', synced });
    if (synced) this.checkSchema();
    if (synced && this.saves.unsaved === 0) this.replicaCheck.settled();
  };

  private readonly onClosed = (event: { code: number; reason: string }) => {
    this.update({ type: 'closed', code: event.code, reason: event.reason });
  };

  private readonly onUnsavedChanged = () => {
    const count = this.saves.unsaved;
    // Survives a reload: those edits are in the local replica and still need the server.
    writeKeptEdits(safeStorage(), this.docId, count);
    this.update({ type: 'unsaved', count });
    if (count === 0) this.replicaCheck.settled();
  };

  /**
   * Tracks which local edits IndexedDB holds. y-indexeddb queued its write for this update in a
   * transaction just now; a later read-write transaction on the same store completes after it.
   */
  private readonly onLocalUpdate = (_update: Uint8Array, origin: unknown) => {
    if (origin === this.provider || origin === this.local || origin === SCHEMA_RECORD_ORIGIN) return;
    const edit = ++this.localEdits;
    const db = this.local.db;
    if (!db) return; // not open yet: its first load writes the whole state (onReplicaLoaded)
    try {
      const tx = db.transaction([LOCAL_UPDATES_STORE], 'readwrite');
      tx.oncomplete = () => {
        this.localEditsInReplica = Math.max(this.localEditsInReplica, edit);
      };
    } catch {
      // The database is closing (the page is going away); nothing to confirm.
    }
  };

  private readonly onReplicaLoaded = () => {
    this.localEditsInReplica = this.localEdits;
    this.checkSchema();
  };

  /**
   * Runs synchronously inside the transaction that changed the map, before y-prosemirror's
   * observer sees the body: a replica that now records a newer schema turns the session
   * outdated, and the editor unbinds ProseMirror before it can delete what it cannot map.
   */
  private readonly onConcordChanged = () => this.checkSchema();

  /**
   * Turns outdated when the document records a newer schema; otherwise an editor records its own
   * version when none as high is there, once the replica or the server's state is here and
   * before its user edits (issue #15: content of a schema must never precede its record).
   */
  private checkSchema(): void {
    if (this.facts.outdated) return;
    const recorded = recordedSchemaVersion(this.doc);
    if (recorded !== null && recorded > SCHEMA_VERSION) {
      this.update({ type: 'outdated' });
      return;
    }
    if (this.canEdit && (recorded === null || recorded < SCHEMA_VERSION)) recordSchemaVersion(this.doc, SCHEMA_VERSION, SCHEMA_RECORD_ORIGIN);
  }

  private readonly onBeforeUnload = (event: BeforeUnloadEvent) => {
    if (!this.hasUnprotectedEdits) return;
    event.preventDefault();
    // Older browsers show the prompt only when returnValue is set.
    event.returnValue = '';
  };

  /** Jitter: y-websocket waits min(2^n·100 ms, maxBackoffTime) after this event; we pick that value. */
  private readonly onConnectionClose = () => {
    this.provider.maxBackoffTime = reconnectDelay(this.provider.wsUnsuccessfulReconnects + 1);
  };

  // Chromium keeps sockets open while "offline" (frames are held), so react to the browser's
  // own signal: drop the socket now and reconnect at once when the network is back.
  private readonly onOffline = () => {
    this.update({ type: 'network', online: false });
    this.provider.disconnect();
    // disconnect() also closed the BroadcastChannel: other tabs must keep getting our edits.
    this.provider.connectBc();
  };

  private readonly onOnline = () => {
    this.update({ type: 'network', online: true });
    this.regions.networkBack();
    if (shouldConnect(this.facts)) this.provider.connect();
  };
}

/** A local transaction of this origin is the person's own edit (not a record this editor keeps). */
function isUserEdit(origin: unknown): boolean {
  return origin !== SCHEMA_RECORD_ORIGIN && origin !== AUTHOR_RECORD_ORIGIN;
}

/** The IndexedDB database holding a document's local replica. */
export function localReplicaName(docId: string): string {
  return `concord:${docId}`;
}

/** Deletes this device's replica of a document ("Forget on this device"). */
export async function forgetLocalReplica(docId: string): Promise<void> {
  writeKeptEdits(safeStorage(), docId, 0);
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.deleteDatabase(localReplicaName(docId));
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('could not delete the local replica'));
    // Another tab still has it open: it is deleted once that tab closes it.
    request.onblocked = () => resolve();
  });
}
