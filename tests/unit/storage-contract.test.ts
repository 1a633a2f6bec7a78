/**
 * The storage contract: every DocumentStore adapter must pass this file. A new adapter is added
 * to `adapters` below and nothing else changes. PostgreSQL runs against the local server (see
 * tests/support/postgresTestDatabase.ts): when it is not reachable, its tests fail, never skip.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DocumentDeletedError, type BacklogEntry, type DocumentStore } from '../../server/storage/DocumentStore';
import { INITIAL_ACCESS, mergeAccess, type AccessState } from '../../lib/auth/capabilities';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { PostgresStore } from '../../server/storage/PostgresStore';
import { SQLITE_FILE_NAME, SqliteStore } from '../../server/storage/SqliteStore';
import { newDocId } from '../../lib/ids';
import { rotateEditForTest as rotateEdit } from '../support/accessWriter';
import { createTestDatabase, type TestDatabase } from '../support/postgresTestDatabase';

interface Adapter {
  name: string;
  /** Creates the adapter's storage before its tests (e.g. a database), and removes it after. */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  open(): DocumentStore;
  /** Opens a store on new, empty storage (a fresh data directory). */
  openEmpty(): DocumentStore;
  /** Opens the same underlying data again after close(); undefined for non-persistent adapters. */
  reopen?: () => DocumentStore;
  /** A second store on the same data while the first is open (several writers, issue #13). */
  second?: () => DocumentStore;
  /** Arguments of tests/support/accessWriter.ts for a writer process on the same data as open(). */
  writerArgs?: () => string[];
  /** Opens data written by the version before the backlog existed, holding one document with `text`. */
  openLegacy?: (docId: string, text: string) => DocumentStore;
}

function sqliteAdapter(): Adapter {
  const makeDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'concord-store-'));
  const dir = makeDir();
  return {
    name: 'sqlite',
    open: () => new SqliteStore(dir),
    openEmpty: () => new SqliteStore(makeDir()),
    reopen: () => new SqliteStore(dir),
    second: () => new SqliteStore(dir),
    writerArgs: () => ['sqlite', dir],
    openLegacy: (docId, text) => {
      const legacyDir = makeDir();
      writeLegacySqlite(path.join(legacyDir, SQLITE_FILE_NAME), docId, typedUpdates(text).updates);
      return new SqliteStore(legacyDir);
    },
  };
}

/** A database of its own for this run, a second one for openEmpty; both dropped after. */
function postgresAdapter(): Adapter {
  const databases: TestDatabase[] = [];
  const storeOn = (index: number) => () => {
    const database = databases[index];
    if (!database) throw new Error('the PostgreSQL test databases were not created (see the error of the suite\'s setup)');
    return new PostgresStore(database.url, { maxConnections: 8 });
  };
  return {
    name: 'postgres',
    setup: async () => {
      databases.push(await createTestDatabase(), await createTestDatabase());
    },
    teardown: async () => {
      for (const database of databases.splice(0)) await database.drop();
    },
    open: storeOn(0),
    openEmpty: storeOn(1),
    reopen: storeOn(0),
    second: storeOn(0),
    writerArgs: () => ['postgres', databases[0]!.url],
  };
}

const adapters: (() => Adapter)[] = [
  sqliteAdapter,
  postgresAdapter,
  () => ({ name: 'memory', open: () => new MemoryStore(), openEmpty: () => new MemoryStore() }),
];

const WRITER_SCRIPT = fileURLToPath(new URL('../support/accessWriter.ts', import.meta.url));

/** Text edits as separate Yjs updates, like a client typing. */
function typedUpdates(text: string): { updates: Uint8Array[]; doc: Y.Doc } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (const ch of text) doc.getText('t').insert(doc.getText('t').length, ch);
  return { updates, doc };
}

function rebuild(updates: Uint8Array[]): string {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc.getText('t').toString();
}

for (const makeAdapter of adapters) {
  const adapter = makeAdapter();
  describe(`DocumentStore contract: ${adapter.name}`, () => {
    // Awaited by every test (set up once), so an adapter whose storage is unreachable fails each
    // of its tests with the reason rather than showing them as skipped.
    let setUp: Promise<void> | undefined;
    beforeEach(async () => (setUp ??= adapter.setup?.()));
    afterAll(async () => adapter.teardown?.());
    const open: DocumentStore[] = [];
    const openStore = (factory: () => DocumentStore = adapter.open) => {
      const store = factory();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });
    // Peer names are new in every test: the SQLite adapter's data (like a shared PostgreSQL
    // database) holds every earlier test's backlog too.
    let [east, west, north] = ['', '', ''];
    beforeEach(() => {
      [east, west, north] = [newPeer('east'), newPeer('west'), newPeer('north')];
    });

    it('loads nothing for an unknown document', async () => {
      const store = openStore();
      expect(await store.load(newDocId())).toEqual({ updates: [], lastSeq: 0, bytes: 0 });
      expect(await store.getDocument(newDocId())).toBeNull();
    });

    it('appends updates and loads them back in order', async () => {
      const store = openStore();
      const id = newDocId();
      const { updates } = typedUpdates('hello');
      const seq1 = await store.append(id, updates.slice(0, 2));
      const seq2 = await store.append(id, updates.slice(2));
      expect(seq2).toBeGreaterThan(seq1);
      const loaded = await store.load(id);
      expect(loaded.updates.map((u) => Array.from(u))).toEqual(updates.map((u) => Array.from(u)));
      expect(loaded.lastSeq).toBe(seq2);
      expect(loaded.bytes).toBe(updates.reduce((n, u) => n + u.byteLength, 0));
      expect(rebuild(loaded.updates)).toBe('hello');
      expect(await store.getDocument(id)).not.toBeNull();
    });

    it('keeps documents apart', async () => {
      const store = openStore();
      const [a, b] = [newDocId(), newDocId()];
      await store.append(a, typedUpdates('aaa').updates);
      await store.append(b, typedUpdates('bb').updates);
      expect(rebuild((await store.load(a)).updates)).toBe('aaa');
      expect(rebuild((await store.load(b)).updates)).toBe('bb');
    });

    it('refuses an empty append', async () => {
      const store = openStore();
      await expect(store.append(newDocId(), [])).rejects.toThrow(RangeError);
    });

    it('creates documents idempotently', async () => {
      const store = openStore();
      const id = newDocId();
      const first = await store.createDocument(id);
      const second = await store.createDocument(id);
      expect(second.id).toBe(id);
      expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
      expect((await store.load(id)).updates).toHaveLength(0);
    });

    it('compacts the log into a snapshot and keeps later updates', async () => {
      const store = openStore();
      const id = newDocId();
      const { updates, doc } = typedUpdates('abcdef');
      const through = await store.append(id, updates.slice(0, 4));
      const snapshotDoc = new Y.Doc();
      for (const u of updates.slice(0, 4)) Y.applyUpdate(snapshotDoc, u);
      await store.append(id, updates.slice(4));
      await store.compact(id, Y.encodeStateAsUpdate(snapshotDoc), through);
      const loaded = await store.load(id);
      expect(loaded.updates).toHaveLength(1 + 2); // snapshot + the two later updates
      expect(rebuild(loaded.updates)).toBe(doc.getText('t').toString());
      // Appends after compaction still land after it.
      const more = typedUpdates('x').updates;
      const seq = await store.append(id, more);
      expect(seq).toBeGreaterThan(loaded.lastSeq);
    });

    it('ignores a compaction older than the current snapshot', async () => {
      const store = openStore();
      const id = newDocId();
      const { updates } = typedUpdates('abc');
      const s1 = await store.append(id, updates.slice(0, 1));
      const s3 = await store.append(id, updates.slice(1));
      await store.compact(id, Y.encodeStateAsUpdate(rebuildDoc(updates)), s3);
      await store.compact(id, Y.encodeStateAsUpdate(rebuildDoc(updates.slice(0, 1))), s1);
      expect(rebuild((await store.load(id)).updates)).toBe('abc');
    });

    describe('loadSince: what another instance appended (issue #13)', () => {
      it('returns the entries after a sequence number, in order, and the newest one', async () => {
        const store = openStore();
        const id = newDocId();
        const { updates, doc } = typedUpdates('abcde');
        const seen = (await store.load(id)).lastSeq;
        const s2 = await store.append(id, updates.slice(0, 2));
        const s5 = await store.append(id, updates.slice(2));
        const since = await store.loadSince(id, s2);
        expect(since.updates.map((u) => Array.from(u))).toEqual(updates.slice(2).map((u) => Array.from(u)));
        expect(since.lastSeq).toBe(s5);
        expect(since.bytes).toBe(updates.slice(2).reduce((n, u) => n + u.byteLength, 0));
        expect(rebuild((await store.loadSince(id, seen)).updates)).toBe(doc.getText('t').toString());
      });

      it('returns nothing, and the sequence number it was given, when nothing is newer', async () => {
        const store = openStore();
        const id = newDocId();
        const last = await store.append(id, typedUpdates('ab').updates);
        expect(await store.loadSince(id, last)).toEqual({ updates: [], lastSeq: last, bytes: 0 });
        expect(await store.loadSince(newDocId(), 7)).toEqual({ updates: [], lastSeq: 7, bytes: 0 });
      });

      it('includes the snapshot when a compaction replaced entries after that number', async () => {
        const store = openStore();
        const id = newDocId();
        const { updates } = typedUpdates('abcdef');
        const s1 = await store.append(id, updates.slice(0, 1));
        const s4 = await store.append(id, updates.slice(1, 4));
        await store.compact(id, Y.encodeStateAsUpdate(rebuildDoc(updates.slice(0, 4))), s4);
        const s6 = await store.append(id, updates.slice(4));
        const since = await store.loadSince(id, s1);
        expect(since.updates).toHaveLength(1 + 2); // the snapshot, then the two later entries
        expect(since.lastSeq).toBe(s6);
        expect(rebuild(since.updates)).toBe('abcdef');
        // A snapshot through what the reader had already seen is not sent again.
        expect((await store.loadSince(id, s4)).updates).toHaveLength(2);
      });

      if (adapter.second) {
        const second = adapter.second;
        // What server/instances relies on: polling from the last lastSeq seen never skips an entry,
        // even while two writers append at once (a commit never takes a lower number than a
        // visible one).
        it('polling from the last lastSeq seen misses nothing two stores append at once', async () => {
          const [reader, a, b] = [openStore(), openStore(), openStore(second)];
          const id = newDocId();
          const written: string[] = [];
          const polled = new Y.Doc();
          let seen = 0;
          const poll = async () => {
            const since = await reader.loadSince(id, seen);
            for (const update of since.updates) Y.applyUpdate(polled, update);
            seen = since.lastSeq;
          };
          const write = async (store: DocumentStore, tag: string) => {
            for (let i = 0; i < 60; i++) {
              written.push(`${tag}${i}`);
              await store.append(id, [keyUpdate(`${tag}${i}`)]);
            }
          };
          let writing = true;
          const polling = (async () => {
            while (writing) await poll();
          })();
          await Promise.all([write(a, 'a'), write(b, 'b')]);
          writing = false;
          await polling;
          await poll();
          const keys = new Set(polled.getMap('m').keys());
          expect(written.filter((key) => !keys.has(key))).toEqual([]);
        });
      }
    });

    it('starts documents with the initial access state and stores changes to it', async () => {
      const store = openStore();
      const id = newDocId();
      expect((await store.createDocument(id)).access).toEqual(INITIAL_ACCESS);
      const rotated = { ...INITIAL_ACCESS, editEpoch: 2, editVerifier: 'v-edit', viewEpoch: 1, viewVerifier: 'v-view' };
      await store.setAccess(id, rotated);
      expect((await store.getDocument(id))?.access).toEqual(rotated);
      // setAccess registers unknown documents too.
      const other = newDocId();
      await store.setAccess(other, rotated);
      expect((await store.getDocument(other))?.access).toEqual(rotated);
    });

    it('deletes a document for good: content gone, tombstone kept, appends refused', async () => {
      const store = openStore();
      const id = newDocId();
      await store.append(id, typedUpdates('secret').updates);
      await store.deleteDocument(id);
      await store.deleteDocument(id); // idempotent
      expect((await store.load(id)).updates).toHaveLength(0);
      expect((await store.getDocument(id))?.access.deleted).toBe(true);
      await expect(store.append(id, typedUpdates('back').updates)).rejects.toThrow(DocumentDeletedError);
      expect((await store.load(id)).updates).toHaveLength(0);
    });

    it('a compaction that loaded the document before it was deleted brings nothing back', async () => {
      const store = openStore();
      const id = newDocId();
      await store.append(id, typedUpdates('secret').updates);
      const loaded = await store.load(id);
      await store.deleteDocument(id); // e.g. by another instance, while this one built its snapshot
      await store.compact(id, Y.mergeUpdates(loaded.updates), loaded.lastSeq);
      expect(await store.load(id)).toEqual({ updates: [], lastSeq: 0, bytes: 0 });
      expect((await store.getDocument(id))?.access.deleted).toBe(true);
    });

    describe('backlog per peer region (issue #12)', () => {
      it('marks a document dirty for each named peer in the append, accumulating bytes', async () => {
        const store = openStore();
        const id = newDocId();
        const { updates } = typedUpdates('abcd');
        const before = Date.now();
        await store.append(id, updates.slice(0, 2), { dirtyFor: [east, west] });
        const after = Date.now();
        const [first] = await store.listBacklog(east, 10);
        expect(first).toMatchObject({ docId: id, bytes: byteSize(updates.slice(0, 2)) });
        expect(first!.since).toBeGreaterThanOrEqual(before);
        expect(first!.since).toBeLessThanOrEqual(after);
        expect(await store.listBacklog(west, 10)).toEqual([first]);
        expect(await store.listBacklog(north, 10)).toEqual([]);

        await store.append(id, updates.slice(2, 3), { dirtyFor: [east] });
        const [again] = await store.listBacklog(east, 10);
        expect(again).toEqual({ ...first, mark: again!.mark, bytes: byteSize(updates.slice(0, 3)) });
        expect(again!.mark).not.toBe(first!.mark);
        expect(await store.listBacklog(west, 10)).toEqual([first]); // not named this time

        await store.append(id, updates.slice(3)); // no peers: the backlog is untouched
        expect(await store.listBacklog(east, 10)).toEqual([again]);
      });

      it('marks nothing when the write fails', async () => {
        const store = openStore();
        const deleted = newDocId();
        await store.append(deleted, typedUpdates('x').updates);
        await store.deleteDocument(deleted);
        await expect(store.append(deleted, typedUpdates('y').updates, { dirtyFor: [east] })).rejects.toThrow(DocumentDeletedError);
        const unknown = newDocId();
        const bug = new Error('change failed');
        await expect(
          store.updateAccess(unknown, () => {
            throw bug;
          }, { dirtyFor: [east] }),
        ).rejects.toBe(bug);
        await expect(store.updateAccess(unknown, (c) => ({ ...c, editEpoch: -1 }), { dirtyFor: [east] })).rejects.toThrow(RangeError);
        expect(await store.listBacklog(east, 10)).toEqual([]);
        expect(await store.getDocument(unknown)).toBeNull(); // not even registered
      });

      it('pages the backlog in docId order', async () => {
        const store = openStore();
        const ids = Array.from({ length: 7 }, () => newDocId());
        for (const id of ids) await store.append(id, typedUpdates('p').updates, { dirtyFor: [east] });
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listBacklog(east, 3, after);
          expect(page.length).toBeLessThanOrEqual(3);
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.docId));
          after = page[page.length - 1]!.docId;
        }
        expect(seen).toEqual([...ids].sort());
        await expect(store.listBacklog(east, 0)).rejects.toThrow(RangeError);
      });

      it('clears an entry only with its current mark: a document dirtied after the list stays', async () => {
        const store = openStore();
        const id = newDocId();
        const { updates } = typedUpdates('ab');
        await store.append(id, updates.slice(0, 1), { dirtyFor: [east, west] });
        const [listed] = await store.listBacklog(east, 10);
        await store.append(id, updates.slice(1), { dirtyFor: [east, west] }); // while the peer was sent `listed`
        expect(await store.clearBacklog(east, id, listed!.mark, Date.now())).toBe(false);
        const [current] = await store.listBacklog(east, 10);
        expect(current).toMatchObject({ docId: id, bytes: byteSize(updates) });
        expect(await store.clearBacklog(east, id, current!.mark, Date.now())).toBe(true);
        expect(await store.listBacklog(east, 10)).toEqual([]);
        expect(await store.clearBacklog(east, id, current!.mark, Date.now())).toBe(false);
        expect(await store.listBacklog(west, 10)).toHaveLength(1); // each peer confirms for itself
      });

      it('a confirmation of an older mark keeps the entry but moves its since up to what was confirmed', async () => {
        const store = openStore();
        const id = newDocId();
        const { updates } = typedUpdates('ab');
        await store.append(id, updates.slice(0, 1), { dirtyFor: [east] });
        const [listed] = await store.listBacklog(east, 10);
        await store.append(id, updates.slice(1), { dirtyFor: [east] });
        const confirmedAt = listed!.since + 60_000;
        expect(await store.clearBacklog(east, id, listed!.mark, confirmedAt)).toBe(false);
        const [after] = await store.listBacklog(east, 10);
        expect(after).toMatchObject({ docId: id, since: confirmedAt });
        expect((await store.backlogStats(east)).oldestSince).toBe(confirmedAt);
        // Never backwards: a late, older confirmation leaves it.
        expect(await store.clearBacklog(east, id, listed!.mark, listed!.since)).toBe(false);
        expect((await store.listBacklog(east, 10))[0]!.since).toBe(confirmedAt);
      });

      it('remembers peer regions and their storage ids', async () => {
        const store = openStore();
        expect(await store.knownPeers()).toEqual(new Map());
        await store.rememberPeer(east, 'storage-1');
        await store.rememberPeer(west, 'storage-2');
        await store.rememberPeer(east, 'storage-3'); // east lost its data and came back
        expect(await store.knownPeers()).toEqual(new Map([[east, 'storage-3'], [west, 'storage-2']]));
        if (adapter.reopen) {
          await store.close();
          expect(await openStore(adapter.reopen).knownPeers()).toEqual(new Map([[east, 'storage-3'], [west, 'storage-2']]));
        }
      });

      it('counts documents, bytes and the oldest entry', async () => {
        const store = openStore();
        expect(await store.backlogStats(east)).toEqual({ documents: 0, bytes: 0, oldestSince: null });
        const [a, b] = [newDocId(), newDocId()];
        const ua = typedUpdates('aaa').updates;
        const ub = typedUpdates('b').updates;
        await store.append(a, ua, { dirtyFor: [east] });
        await store.append(b, ub, { dirtyFor: [east, west] });
        const entries = await store.listBacklog(east, 10);
        expect(await store.backlogStats(east)).toEqual({
          documents: 2,
          bytes: byteSize(ua) + byteSize(ub),
          oldestSince: Math.min(...entries.map((e) => e.since)),
        });
        expect(await store.backlogStats(west)).toEqual({ documents: 1, bytes: byteSize(ub), oldestSince: entries.find((e) => e.docId === b)!.since });
      });

      it('marks every document dirty, deleted ones too, for a peer that lost its data', async () => {
        const store = openStore();
        const [written, created, deleted] = [newDocId(), newDocId(), newDocId()];
        await store.append(written, typedUpdates('text').updates, { dirtyFor: [east] });
        const [stale] = await store.listBacklog(east, 10);
        await store.createDocument(created);
        await store.append(deleted, typedUpdates('gone').updates);
        await store.deleteDocument(deleted);
        const known = await documentsKnown(store, [written, created, deleted]);
        expect(await store.markAllDirty(east)).toBe(known);
        const entries = await store.listBacklog(east, 1000);
        expect(entries.map((e) => e.docId)).toEqual(expect.arrayContaining([written, created, deleted]));
        const byId = new Map(entries.map((e) => [e.docId, e] as const));
        expect(byId.get(written)!.bytes).toBe((await store.load(written)).bytes);
        expect(byId.get(deleted)!.bytes).toBe(0);
        // An entry listed before must be re-sent: its old mark no longer clears it.
        expect(await store.clearBacklog(east, written, stale!.mark, Date.now())).toBe(false);
      });
    });

    describe('access changes merge (issue #12)', () => {
      it('applies two rotations started together: both count', async () => {
        const store = openStore();
        const id = newDocId();
        const results = await Promise.all([store.updateAccess(id, rotateEdit), store.updateAccess(id, rotateEdit)]);
        expect(results.map((a) => a.editEpoch).sort()).toEqual([1, 2]);
        expect((await store.getDocument(id))?.access).toEqual({ ...INITIAL_ACCESS, editEpoch: 2, editVerifier: 'v-edit-2' });
      });

      it('returns what it stored, registers the document and marks it dirty with no bytes', async () => {
        const store = openStore();
        const id = newDocId();
        const stored = await store.updateAccess(id, (c) => ({ ...c, viewEpoch: 3, viewVerifier: 'v-view-3' }), { dirtyFor: [east] });
        expect(stored).toEqual({ ...INITIAL_ACCESS, viewEpoch: 3, viewVerifier: 'v-view-3' });
        expect((await store.getDocument(id))?.access).toEqual(stored);
        expect(await store.listBacklog(east, 10)).toEqual([expect.objectContaining({ docId: id, bytes: 0 })]);
      });

      it('drops the content of a deletion, and with mergeAccess a later change cannot undelete', async () => {
        const store = openStore();
        const id = newDocId();
        await store.append(id, typedUpdates('secret').updates);
        const deleted = await store.updateAccess(id, (c) => ({ ...c, deleted: true }), { dirtyFor: [east] });
        expect(deleted.deleted).toBe(true);
        expect((await store.load(id)).updates).toHaveLength(0);
        // A peer that never saw the deletion sends its newer rotation, not deleted.
        const remote: AccessState = { ...INITIAL_ACCESS, editEpoch: 4, editVerifier: 'v-edit-4' };
        const merged = await store.updateAccess(id, (c) => mergeAccess(c, remote));
        expect(merged).toEqual({ ...remote, deleted: true });
        await expect(store.append(id, typedUpdates('back').updates)).rejects.toThrow(DocumentDeletedError);
      });
    });

    if (adapter.second) {
      const second = adapter.second;
      it('two stores on the same data: interleaved rotations both count, and both see one backlog and id', async () => {
        const [a, b] = [openStore(), openStore(second)];
        const id = newDocId();
        await Promise.all([a.updateAccess(id, rotateEdit, { dirtyFor: [east] }), b.updateAccess(id, rotateEdit, { dirtyFor: [east] })]);
        expect((await a.getDocument(id))?.access.editEpoch).toBe(2);
        expect((await b.getDocument(id))?.access.editEpoch).toBe(2);
        const [entry] = await b.listBacklog(east, 10, undefined);
        expect(entry?.docId).toBe(id);
        expect(await a.clearBacklog(east, id, entry!.mark, Date.now())).toBe(true);
        expect(await b.storageId()).toBe(await a.storageId());
      });

      // Issue #13: with several writers, compactions run while both instances append. Each
      // compacts what it loaded, through the loaded lastSeq; nothing either appended may be lost.
      it('two stores appending and compacting one document at once lose nothing', async () => {
        const stores = [openStore(), openStore(second)];
        const id = newDocId();
        const written: string[] = [];
        const appendKeys = async (store: DocumentStore, writer: string) => {
          for (let i = 0; i < 60; i++) {
            written.push(`${writer}.${i}`);
            await store.append(id, [keyUpdate(`${writer}.${i}`)]);
          }
        };
        let appending = true;
        const compactWhileAppending = async (store: DocumentStore) => {
          let compactions = 0;
          for (; appending; compactions++) await compactWhatIsStored(store, id);
          return compactions;
        };
        // Four appenders and one compactor on each store, all at once.
        const compactors = stores.map(compactWhileAppending);
        await Promise.all(stores.flatMap((store, s) => [0, 1, 2, 3].map((w) => appendKeys(store, `${s}.${w}`)))).finally(() => {
          appending = false;
        });
        const compactions = await Promise.all(compactors);
        const stored = await stores[0]!.load(id);
        const keys = storedKeys(stored);
        expect(written.filter((key) => !keys.has(key))).toEqual([]);
        expect(compactions.every((n) => n >= 10)).toBe(true); // both really compacted meanwhile
      });

      it('two stores rotating, deleting, appending and compacting one document at once: every change merges', async () => {
        const [a, b] = [openStore(), openStore(second)];
        for (let round = 0; round < 10; round++) {
          const id = newDocId();
          await a.append(id, [keyUpdate('before')]);
          const rotations = 8;
          const results = await Promise.allSettled([
            compactWhatIsStored(b, id),
            ...Array.from({ length: rotations }, (_, i) => (i % 2 === 0 ? a : b).updateAccess(id, rotateEdit, { dirtyFor: [east] })),
            a.append(id, [keyUpdate('racing')]),
            b.updateAccess(id, (current) => ({ ...current, deleted: true }), { dirtyFor: [east] }),
            a.append(id, [keyUpdate('racing too')]),
            compactWhatIsStored(a, id),
          ]);
          // An append may lose to the deletion (and is refused); nothing else may fail.
          for (const result of results) {
            if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DocumentDeletedError);
          }
          expect(results.filter((r) => r.status === 'rejected').length).toBeLessThanOrEqual(2);
          expect((await b.getDocument(id))?.access).toEqual({ ...INITIAL_ACCESS, editEpoch: rotations, editVerifier: `v-edit-${rotations}`, deleted: true });
          expect(await a.load(id)).toEqual({ updates: [], lastSeq: 0, bytes: 0 });
          await expect(b.append(id, [keyUpdate('after')])).rejects.toThrow(DocumentDeletedError);
          expect((await a.listBacklog(east, 1000)).filter((e) => e.docId === id)).toHaveLength(1);
        }
      });
    }

    if (adapter.writerArgs) {
      const writerArgs = adapter.writerArgs;
      it('two writer processes on the same data: no rotation is lost', async () => {
        const store = openStore();
        const id = newDocId();
        const perWriter = 400;
        const writers = [0, 1].map(() => startWriter([...writerArgs(), id, String(perWriter)]));
        await Promise.all(writers.map((w) => w.ready));
        for (const w of writers) w.go();
        await Promise.all(writers.map((w) => w.done));
        expect((await store.getDocument(id))?.access).toMatchObject({ editEpoch: 2 * perWriter, editVerifier: `v-edit-${2 * perWriter}` });
        expect((await store.listBacklog('peer', 1000)).filter((e) => e.docId === id)).toHaveLength(1);
      });
    }

    it('keeps one storage id per data, and a new one for empty storage', async () => {
      const store = openStore();
      const id = await store.storageId();
      expect(id).toMatch(/\S{8,}/);
      expect(await store.storageId()).toBe(id);
      expect(await openStore(adapter.openEmpty).storageId()).not.toBe(id);
      if (adapter.reopen) {
        await store.close();
        expect(await openStore(adapter.reopen).storageId()).toBe(id);
      }
    });

    if (adapter.openLegacy) {
      const openLegacy = adapter.openLegacy;
      it('opens data written before the backlog existed, with nothing to migrate', async () => {
        const id = newDocId();
        const store = openStore(() => openLegacy(id, 'old'));
        expect(rebuild((await store.load(id)).updates)).toBe('old');
        expect(await store.storageId()).toMatch(/\S{8,}/);
        await store.append(id, typedUpdates('!').updates, { dirtyFor: [east] });
        expect(await store.markAllDirty(west)).toBe(1);
        expect((await store.backlogStats(east)).documents).toBe(1);
        expect((await store.updateAccess(id, rotateEdit)).editEpoch).toBe(1);
      });
    }

    if (adapter.reopen) {
      const reopen = adapter.reopen;
      it('keeps everything across close and reopen', async () => {
        const id = newDocId();
        const { updates } = typedUpdates('durable');
        const first = reopen();
        const through = await first.append(id, updates.slice(0, 3));
        await first.compact(id, Y.encodeStateAsUpdate(rebuildDoc(updates.slice(0, 3))), through);
        await first.append(id, updates.slice(3));
        const deletedId = newDocId();
        await first.append(deletedId, typedUpdates('gone').updates);
        await first.deleteDocument(deletedId);
        await first.close();
        const second = openStore(reopen);
        expect(rebuild((await second.load(id)).updates)).toBe('durable');
        expect(await second.getDocument(id)).not.toBeNull();
        expect((await second.getDocument(deletedId))?.access.deleted).toBe(true);
      });

      it('keeps the backlog across close and reopen', async () => {
        const id = newDocId();
        const first = reopen();
        await first.append(id, typedUpdates('queued').updates, { dirtyFor: [east] });
        const before = await first.listBacklog(east, 10);
        expect(before).toHaveLength(1);
        await first.close();
        const second = openStore(reopen);
        expect(await second.listBacklog(east, 10)).toEqual(before);
      });
    }
  });
}

function rebuildDoc(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc;
}

/** One Yjs update setting `key` in map "m", from a replica of its own (so updates commute). */
function keyUpdate(key: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap('m').set(key, true);
  return Y.encodeStateAsUpdate(doc);
}

function storedKeys(stored: { updates: Uint8Array[] }): Set<string> {
  const doc = rebuildDoc(stored.updates);
  return new Set(doc.getMap('m').keys());
}

/** What an instance does to compact: a snapshot of what it loaded, through the loaded lastSeq. */
async function compactWhatIsStored(store: DocumentStore, docId: string): Promise<void> {
  const loaded = await store.load(docId);
  if (loaded.updates.length > 1) await store.compact(docId, Y.mergeUpdates(loaded.updates), loaded.lastSeq);
}

function newPeer(name: string): string {
  return `${name}-${newDocId()}`;
}

function byteSize(updates: Uint8Array[]): number {
  return updates.reduce((n, u) => n + u.byteLength, 0);
}

/** How many documents the store knows: the shared SQLite data holds other tests' too. */
async function documentsKnown(store: DocumentStore, mine: string[]): Promise<number> {
  const probe = newPeer('count-probe');
  const all = await store.markAllDirty(probe);
  const listed: BacklogEntry[] = [];
  for (let page = await store.listBacklog(probe, 500); page.length > 0; page = await store.listBacklog(probe, 500, page[page.length - 1]!.docId)) {
    listed.push(...page);
  }
  expect(listed).toHaveLength(all);
  for (const id of mine) expect(listed.some((e) => e.docId === id)).toBe(true);
  return all;
}

/** The SQLite schema as the version before issue #12 wrote it, with one document. */
function writeLegacySqlite(file: string, docId: string, updates: Uint8Array[]): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE documents (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, edit_epoch INTEGER NOT NULL DEFAULT 0,
      edit_verifier TEXT, view_epoch INTEGER NOT NULL DEFAULT 0, view_verifier TEXT, deleted_at INTEGER) WITHOUT ROWID;
    CREATE TABLE snapshots (doc_id TEXT PRIMARY KEY, through_seq INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, data BLOB NOT NULL);
    CREATE INDEX updates_by_doc ON updates (doc_id, seq);
  `);
  db.prepare('INSERT INTO documents (id, created_at) VALUES (?, ?)').run(docId, Date.now());
  const insert = db.prepare('INSERT INTO updates (doc_id, data) VALUES (?, ?)');
  for (const update of updates) insert.run(docId, update);
  db.close();
}

interface Writer {
  ready: Promise<void>;
  go(): void;
  done: Promise<void>;
}

/** tests/support/accessWriter.ts as a child process; `done` rejects with its stderr if it fails. */
function startWriter(args: string[]): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER_SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = readline.createInterface({ input: child.stdout });
  const said = (word: string) =>
    Promise.race([
      new Promise<void>((resolve) => lines.on('line', (line) => line === word && resolve())),
      exited.then((code) => Promise.reject(new Error(`writer exited (${code}) before "${word}": ${stderr}`))),
    ]);
  const ready = said('ready');
  const done = said('done').then(async () => {
    const code = await exited;
    if (code !== 0) throw new Error(`writer exited with ${code}: ${stderr}`);
  });
  // Both are awaited by the test; these handlers keep an early exit from being unhandled first.
  ready.catch(() => undefined);
  done.catch(() => undefined);
  return { ready, go: () => child.stdin.end('go\n'), done };
}
