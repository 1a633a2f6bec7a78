/**
 * The storage contract: every DocumentStore adapter must pass this file. A new adapter (e.g.
 * PostgreSQL) is added to `adapters` below and nothing else changes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DocumentDeletedError, type DocumentStore } from '../../server/storage/DocumentStore';
import { INITIAL_ACCESS } from '../../lib/auth/capabilities';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { newDocId } from '../../lib/ids';

interface Adapter {
  name: string;
  open(): DocumentStore;
  /** Opens the same underlying data again after close(); undefined for non-persistent adapters. */
  reopen?: () => DocumentStore;
}

function sqliteAdapter(): Adapter {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-store-'));
  return { name: 'sqlite', open: () => new SqliteStore(dir), reopen: () => new SqliteStore(dir) };
}

const adapters: (() => Adapter)[] = [sqliteAdapter, () => ({ name: 'memory', open: () => new MemoryStore() })];

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
    const open: DocumentStore[] = [];
    const openStore = (factory: () => DocumentStore = adapter.open) => {
      const store = factory();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
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
    }
  });
}

function rebuildDoc(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc;
}
