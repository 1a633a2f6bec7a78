/**
 * "See new changes" for one open document: feeds LastSeenModel (lastSeen.ts) from the replica's
 * updates, the local replica's load, the server's syncs and the page's visibility, keeps the
 * record in localStorage, and tells subscribers (the editor's highlight, the bar) what is new.
 * Browser-only, framework-free.
 */
import * as Y from 'yjs';
import type { IndexeddbPersistence } from 'y-indexeddb';
import type { WebsocketProvider } from 'y-websocket';
import type { KeyValueStorage } from './browserStorage';
import { LastSeenModel, readLastSeen, writeLastSeen, type NewChangesSummary } from './lastSeen';
import { bodyText, displayAuthor, newRuns, type NewChangesRange, type StateVector } from '../editor/authorshipRuns';
import { schema } from '../editor/schema';

/** localStorage is written at most this often while the document changes. */
const PERSIST_DELAY_MS = 1_000;

export interface SeenChangesOptions {
  docId: string;
  doc: Y.Doc;
  fragment: Y.XmlFragment;
  provider: WebsocketProvider;
  local: IndexeddbPersistence;
  storage: KeyValueStorage;
  /** Whether a local transaction of this origin is the person's own edit. */
  isUserEdit(origin: unknown): boolean;
  now?: () => number;
}

export class SeenChanges {
  private readonly model: LastSeenModel;
  private readonly listeners = new Set<() => void>();
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  private shown: NewChangesRange | null = null;
  private currentSummary: NewChangesSummary | null = null;

  constructor(private readonly options: SeenChangesOptions) {
    const { doc, docId, storage, provider, local } = options;
    this.model = new LastSeenModel(readLastSeen(storage, docId), (range) => newRuns(this.segments(), range).length > 0);
    this.model.addOwnClient(doc.clientID);
    doc.on('update', this.onUpdate);
    local.on('synced', this.onReplicaLoaded);
    provider.on('sync', this.onSync);
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('pagehide', this.flush);
  }

  /** The new changes highlighted now, or null. */
  get range(): NewChangesRange | null {
    return this.shown;
  }

  get summary(): NewChangesSummary | null {
    return this.currentSummary;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The person has looked: stop highlighting, and remember the current state as seen. */
  dismiss(): void {
    this.model.dismiss(this.current());
    this.changed();
  }

  destroy(): void {
    const { doc, provider, local } = this.options;
    doc.off('update', this.onUpdate);
    local.off('synced', this.onReplicaLoaded);
    provider.off('sync', this.onSync);
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('pagehide', this.flush);
    this.flush();
    this.listeners.clear();
  }

  private segments() {
    return bodyText(this.options.fragment, schema).segments;
  }

  private current(): StateVector {
    return Y.decodeStateVector(Y.encodeStateVector(this.options.doc));
  }

  private readonly onUpdate = (_update: Uint8Array, origin: unknown, doc: Y.Doc, transaction: Y.Transaction) => {
    const { provider, local } = this.options;
    if (transaction.local) {
      // Yjs may have changed the client ID after a collision: the new one is ours too.
      this.model.addOwnClient(doc.clientID);
      this.model.seenLive(this.current());
      if (this.options.isUserEdit(origin)) this.model.edited(this.current(), (this.options.now ?? Date.now)());
    } else if (origin === local || (origin === provider && !provider.synced) || document.visibilityState !== 'visible') {
      return; // a catch-up, or unseen: compared with what was seen at the next catch-up
    } else {
      this.model.seenLive(this.current());
    }
    this.changed();
  };

  private readonly onReplicaLoaded = () => {
    this.model.caughtUp(this.current(), false);
    this.changed();
  };

  private readonly onSync = (synced: boolean) => {
    if (!synced) return;
    this.model.caughtUp(this.current(), true);
    this.changed();
  };

  private readonly onVisibility = () => {
    if (document.visibilityState === 'hidden') {
      this.flush();
      return;
    }
    this.model.caughtUp(this.current(), this.options.provider.synced);
    this.changed();
  };

  /** Tells subscribers when the highlighted range changed, and schedules the record's write. */
  private changed(): void {
    const range = this.model.range;
    if (range !== this.shown && !(range && this.shown && sameRange(range, this.shown))) {
      this.shown = range;
      this.currentSummary = range ? this.summarise(range) : null;
      for (const listener of this.listeners) listener();
    }
    this.persistTimer ??= setTimeout(this.flush, PERSIST_DELAY_MS);
  }

  private summarise(range: NewChangesRange): NewChangesSummary {
    const runs = newRuns(this.segments(), range);
    const authors = [...new Set(runs.map((run) => displayAuthor(this.options.doc, run.client).name))];
    return { count: runs.length, authors };
  }

  private readonly flush = () => {
    if (this.persistTimer !== null) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    const record = this.model.record;
    if (record) writeLastSeen(this.options.storage, this.options.docId, record);
  };
}

function sameRange(a: NewChangesRange, b: NewChangesRange): boolean {
  return sameVector(a.since, b.since) && sameVector(a.until, b.until) && a.exclude.size === b.exclude.size;
}

function sameVector(a: StateVector, b: StateVector): boolean {
  if (a.size !== b.size) return false;
  for (const [client, clock] of a) if (b.get(client) !== clock) return false;
  return true;
}
