/**
 * An editor older than the document's content is closed with 4427 before it receives that
 * content: its y-prosemirror would delete every element it cannot map, for everyone (issue #15,
 * item 6). Stock clients declare no schema and are never closed for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { pino } from 'pino';
import { Room } from '../../server/relay/Room';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import {
  concordMap,
  declaredSchemaVersion,
  recordedSchemaVersion,
  recordSchemaVersion,
  schemaVersionKey,
} from '../../lib/documents/schemaVersion';
import { newDocId } from '../../lib/ids';

import { FakeConnection } from '../support/fakeConnection';

const log = pino({ level: 'silent' });


const rooms: Room[] = [];
async function loadRoom(store = new MemoryStore(), docId = newDocId()): Promise<Room> {
  const room = await Room.load(docId, {
    store,
    log,
    metrics: new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false),
    saverOptions: { compactAfterUpdates: 1000, compactAfterBytes: 1 << 20, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 0 },
    untaggedChanges: 'throw',
  });
  rooms.push(room);
  return room;
}

afterEach(() => {
  for (const room of rooms.splice(0)) room.destroy();
});

/** What a newer editor sends: it records schema `version`, then adds an element older schemas lack. */
function newerEdit(version: number): Uint8Array {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  doc.transact(() => {
    recordSchemaVersion(doc, version, 'newer editor');
    const table = new Y.XmlElement('table');
    table.insert(0, [new Y.XmlText('cells')]);
    doc.getXmlFragment(BODY_FRAGMENT).insert(0, [table]);
  });
  return Y.mergeUpdates(updates);
}

describe('Room and editor schema versions', () => {
  it('closes an older editor with 4427 when a change records a newer schema, before any of it is sent', async () => {
    const room = await loadRoom();
    const older = new FakeConnection({ schemaVersion: 1 });
    const stock = new FakeConnection({ schemaVersion: null });
    const newer = new FakeConnection({ schemaVersion: 2 });
    for (const conn of [older, stock, newer]) room.addConnection(conn);
    const edit = newerEdit(2);

    room.receive(newer, encodeUpdateMessage(edit));

    expect(older.closed?.code).toBe(CloseCode.editorOutdated);
    expect(older.syncUpdates()).toEqual([]);
    // The fake does not leave the room by itself when closed: the room removed it.
    expect(room.connectionCount).toBe(2);
    expect(stock.closed).toBeNull();
    expect(stock.syncUpdates()).toEqual([edit]);
    expect(newer.closed).toBeNull();
    expect(recordedSchemaVersion(room.doc)).toBe(2);
  });

  it('keeps editors of the recorded version or newer, and changes that record nothing newer', async () => {
    const room = await loadRoom();
    const [one, two] = [new FakeConnection({ schemaVersion: 1 }), new FakeConnection({ schemaVersion: 2 })];
    room.addConnection(one);
    room.addConnection(two);
    const edit = newerEdit(1);
    room.receive(two, encodeUpdateMessage(edit));
    const plain = new Y.Doc();
    Y.applyUpdate(plain, edit);
    const sv = Y.encodeStateVector(plain);
    plain.getText('title').insert(0, 'hello');
    room.receive(two, encodeUpdateMessage(Y.encodeStateAsUpdate(plain, sv)));
    expect(one.closed).toBeNull();
    expect(one.syncUpdates()).toHaveLength(2);
  });

  it('closes an older editor joining a document of a newer schema at once, with nothing of it sent', async () => {
    const store = new MemoryStore();
    const docId = newDocId();
    const first = await loadRoom(store, docId);
    const writer = new FakeConnection({ schemaVersion: 2 });
    first.addConnection(writer);
    first.receive(writer, encodeUpdateMessage(newerEdit(2)));
    await first.saver.whenIdle();
    first.destroy();
    // Loaded from storage: the record comes with the content.
    const room = await loadRoom(store, docId);

    const older = new FakeConnection({ schemaVersion: 1 });
    room.addConnection(older);
    expect(older.closed?.code).toBe(CloseCode.editorOutdated);
    expect(older.received).toEqual([]);
    expect(room.connectionCount).toBe(0);

    const stock = new FakeConnection({ schemaVersion: null });
    const current = new FakeConnection({ schemaVersion: 2 });
    room.addConnection(stock);
    room.addConnection(current);
    expect(stock.closed).toBeNull();
    expect(current.closed).toBeNull();
    expect(room.connectionCount).toBe(2);
  });
});

describe('schema version records', () => {
  it('only rise: concurrent records of an older and a newer schema keep the newer', () => {
    const [older, newer] = [new Y.Doc(), new Y.Doc()];
    // Whichever client id wins a conflict on one key, both records survive.
    for (const [a, b] of [
      [1, 2],
      [2, 1],
    ] as const) {
      older.clientID = a;
      newer.clientID = b;
      recordSchemaVersion(older, 1, null);
      recordSchemaVersion(newer, 2, null);
      Y.applyUpdate(older, Y.encodeStateAsUpdate(newer));
      Y.applyUpdate(newer, Y.encodeStateAsUpdate(older));
      expect(recordedSchemaVersion(older)).toBe(2);
      expect(recordedSchemaVersion(newer)).toBe(2);
    }
  });

  it('ignores malformed records and records nothing when a version as high is there', () => {
    const doc = new Y.Doc();
    concordMap(doc).set(schemaVersionKey(7), 3);
    concordMap(doc).set('schemaVersion:x', 9);
    concordMap(doc).set(schemaVersionKey(8), 'eight');
    expect(recordedSchemaVersion(doc)).toBeNull();
    expect(recordSchemaVersion(doc, 2, null)).toBe(true);
    expect(recordSchemaVersion(doc, 1, null)).toBe(false);
    expect(recordSchemaVersion(doc, 2, null)).toBe(false);
    expect(recordedSchemaVersion(doc)).toBe(2);
  });

  it('reads a declared version from the query: absent is a stock client, garbage is the oldest', () => {
    expect(declaredSchemaVersion(null)).toBeNull();
    expect(declaredSchemaVersion('3')).toBe(3);
    expect(declaredSchemaVersion('')).toBe(0);
    expect(declaredSchemaVersion('1e3')).toBe(0);
    expect(declaredSchemaVersion('9999999')).toBe(0);
  });
});
