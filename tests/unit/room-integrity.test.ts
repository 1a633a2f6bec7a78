/**
 * A room's document stays exactly what its update events (and so storage and every client)
 * describe: a change is applied whole or not at all, an update that cannot be integrated yet
 * waits outside the document, and a change made around the tagged path is never relayed unstored.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { pino } from 'pino';
import { DEFAULT_UNTAGGED_CHANGE_POLICY, Room } from '../../server/relay/Room';
import { FakeConnection } from '../support/fakeConnection';
import { ConnectionError, ProtocolError } from '../../server/relay/errors';
import { checkUpdate } from '../../server/relay/updateGuard';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { encodeMark } from '../../lib/protocol/ackExtension';
import { newDocId } from '../../lib/ids';

const log = pino({ level: 'silent' });


/** Records every append, and can hold them to prove what is (not) stored. */
class RecordingStore extends MemoryStore {
  readonly appended: Uint8Array[] = [];
  override async append(docId: string, updates: Uint8Array[]): Promise<number> {
    this.appended.push(...updates);
    return super.append(docId, updates);
  }
}

const rooms: Room[] = [];
async function loadRoom(options: { untagged?: 'throw' | 'store'; onCorrupted?: (room: Room) => void; maxPendingBytes?: number } = {}) {
  const store = new RecordingStore();
  const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
  const room = await Room.load(newDocId(), {
    store,
    log,
    metrics,
    saverOptions: { compactAfterUpdates: 1000, compactAfterBytes: 1 << 20, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 0 },
    limits: { maxDocumentBytes: 1 << 20, maxPendingBytes: options.maxPendingBytes ?? 1 << 16 },
    untaggedChanges: options.untagged ?? 'store',
    onCorrupted: options.onCorrupted,
  });
  rooms.push(room);
  return { room, store, metrics };
}

afterEach(() => {
  for (const room of rooms.splice(0)) room.destroy();
});

/** Client 1 typed "a" then "b" (two updates, the second referring to the first). */
function typedTwice(): { first: Uint8Array; second: Uint8Array } {
  const doc = new Y.Doc();
  doc.clientID = 1;
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  doc.getText('t').insert(0, 'a');
  doc.getText('t').insert(1, 'b');
  return { first: updates[0]!, second: updates[1]! };
}

/**
 * The minimal reproduction of Yjs throwing half-way (yjs 13.6): an update with two clients'
 * structs. Client 2's is fine and is integrated first (Yjs goes from the highest client id down);
 * client 1's names as its left neighbour clock 7 of its own history, which does not exist, and
 * Yjs's getItemCleanEnd reads past the end of the struct array:
 * "TypeError: Cannot read properties of undefined (reading 'id')". The update event still fires
 * for client 2's part, so before the fix that part was relayed and stored.
 */
function halfWayFailing(): { base: Uint8Array; bad: Uint8Array } {
  const { first, second } = typedTwice();
  const forged = second.slice();
  // [numClients=1, numStructs=1, client=1, clock=1, info, originClient=1, originClock=0, …]
  expect(Array.from(forged.slice(0, 7))).toEqual([1, 1, 1, 1, 132, 1, 0]);
  forged[6] = 7;
  const other = new Y.Doc();
  other.clientID = 2;
  Y.applyUpdate(other, first);
  const sv = Y.encodeStateVector(other);
  other.getText('t').insert(1, 'X');
  return { base: first, bad: Y.mergeUpdates([Y.encodeStateAsUpdate(other, sv), forged]) };
}

describe('Room integrity', () => {
  it('Yjs itself applies part of a failing update (the reproduction)', () => {
    const { base, bad } = halfWayFailing();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, base);
    const events: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => events.push(u));
    expect(() => Y.applyUpdate(doc, bad)).toThrow(TypeError);
    expect(doc.getText('t').toString()).toBe('aX');
    expect(events).toHaveLength(1);
  });

  it('refuses an update that refers forward in its own history before it touches the document', async () => {
    const { room } = await loadRoom();
    const { base, bad } = halfWayFailing();
    const [a, b] = [new FakeConnection(), new FakeConnection()];
    room.addConnection(a);
    room.addConnection(b);
    room.receive(a, encodeUpdateMessage(base));
    const before = Y.encodeStateAsUpdate(room.doc);
    expect(() => room.receive(a, encodeUpdateMessage(bad))).toThrow(ProtocolError);
    expect(Y.encodeStateAsUpdate(room.doc)).toEqual(before);
    expect(b.syncUpdates()).toHaveLength(1);
  });

  it('a change that throws half-way reaches no one and no storage, and the room asks to be reloaded', async () => {
    const corrupted = vi.fn();
    const { room, store, metrics } = await loadRoom({ onCorrupted: corrupted });
    const { base, bad } = halfWayFailing();
    const [a, b] = [new FakeConnection(), new FakeConnection()];
    room.addConnection(a);
    room.addConnection(b);
    room.receive(a, encodeUpdateMessage(base));
    await room.saver.whenIdle();
    // Past the guard on purpose: the failure must be contained wherever a change comes from.
    const ok = room.change(a.origin, (doc) => Y.applyUpdate(doc, bad, a.origin));
    expect(ok).toBe(false);
    expect(corrupted).toHaveBeenCalledWith(room);
    expect(metrics.integrityCounts.changesFailed).toBe(1);
    await room.saver.whenIdle();
    expect(store.appended).toEqual([base]);
    expect(b.syncUpdates()).toEqual([base]);
    // Nothing more is applied to the corrupted copy; it is never compacted into storage.
    expect(room.change(a.origin, (doc) => doc.getText('t').insert(0, 'late'))).toBe(false);
    await room.saver.compactIfNeeded();
    const reloaded = new Y.Doc();
    for (const u of (await store.load(room.docId)).updates) Y.applyUpdate(reloaded, u);
    expect(reloaded.getText('t').toString()).toBe('a');
  });

  it('keeps an update whose dependencies have not arrived outside the document, and applies it whole when they do', async () => {
    const { room, store } = await loadRoom();
    const { first, second } = typedTwice();
    const [a, b] = [new FakeConnection({ wantsAcks: true }), new FakeConnection()];
    room.addConnection(a);
    room.addConnection(b);
    room.receive(a, encodeUpdateMessage(second));
    room.receive(a, encodeMark(1));
    expect(room.doc.store.pendingStructs).toBeNull();
    expect(Y.encodeStateVector(room.doc)).toEqual(Y.encodeStateVector(new Y.Doc()));
    expect(b.syncUpdates()).toHaveLength(0);
    await room.saver.whenIdle();
    expect(store.appended).toHaveLength(0);
    expect(a.marksAnswered()).toEqual([]);

    room.receive(a, encodeUpdateMessage(first));
    expect(room.doc.getText('t').toString()).toBe('ab');
    expect(room.doc.store.pendingStructs).toBeNull();
    expect(b.syncUpdates()).toHaveLength(2);
    await room.saver.whenIdle();
    expect(store.appended).toHaveLength(2);
    await vi.waitFor(() => expect(a.marksAnswered()).toEqual([1]));
  });

  it('closes a connection whose waiting updates exceed the cap with 4415, and forgets them', async () => {
    const { room } = await loadRoom({ maxPendingBytes: 64 });
    const conn = new FakeConnection();
    room.addConnection(conn);
    const writer = new Y.Doc();
    writer.getText('t').insert(0, 'x');
    let error: unknown = null;
    for (let i = 0; i < 20 && error === null; i++) {
      const sv = Y.encodeStateVector(writer);
      writer.getText('t').insert(1, 'more text '.repeat(2));
      try {
        room.receive(conn, encodeUpdateMessage(Y.encodeStateAsUpdate(writer, sv)));
      } catch (err) {
        error = err;
      }
    }
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).closeCode).toBe(CloseCode.tooMuchPendingData);
    expect(room.doc.getText('t').toString()).toBe('');
  });

  it('checkUpdate tells complete from incomplete updates and refuses impossible ones', () => {
    const { first, second } = typedTwice();
    const doc = new Y.Doc();
    expect(checkUpdate(doc, first)).toEqual({ complete: true, writes: new Map([[1, 1]]) });
    expect(checkUpdate(doc, second)).toEqual({ complete: false, needs: { client: 1, clock: 0 } });
    expect(checkUpdate(doc, Y.mergeUpdates([first, second]))).toEqual({ complete: true, writes: new Map([[1, 2]]) });
    Y.applyUpdate(doc, first);
    expect(checkUpdate(doc, second)).toEqual({ complete: true, writes: new Map([[1, 2]]) });
    // A deletion of content nobody has sent yet would also wait in Yjs as pending data.
    const deleter = new Y.Doc();
    Y.applyUpdate(deleter, Y.mergeUpdates([first, second]));
    const sv = Y.encodeStateVector(deleter);
    deleter.getText('t').delete(1, 1);
    expect(checkUpdate(doc, Y.encodeStateAsUpdate(deleter, sv))).toEqual({ complete: false, needs: { client: 1, clock: 1 } });
    expect(() => checkUpdate(doc, halfWayFailing().bad)).toThrow(/refers forward/);
  });

  it('holds new history forged under a client id another open connection writes, until the owner sent it or left', async () => {
    const { room } = await loadRoom();
    const { first, second } = typedTwice();
    const [owner, forger, reader] = [new FakeConnection(), new FakeConnection(), new FakeConnection()];
    for (const conn of [owner, forger, reader]) room.addConnection(conn);
    room.receive(owner, encodeUpdateMessage(first));
    // The forger claims client 1's next clock with other content: "Z" where client 1 typed "b".
    const forged = second.slice();
    expect(forged[8]).toBe('b'.charCodeAt(0));
    forged[8] = 'Z'.charCodeAt(0);
    room.receive(forger, encodeUpdateMessage(forged));
    expect(room.doc.getText('t').toString()).toBe('a');
    expect(reader.syncUpdates()).toHaveLength(1);
    // The owner's real edit wins; the forged one, now known history, changes nothing.
    room.receive(owner, encodeUpdateMessage(second));
    expect(room.doc.getText('t').toString()).toBe('ab');
    expect(reader.syncUpdates()).toHaveLength(2);

    // Once the owner has left, the same client id may be written by another connection
    // (the same person reconnecting, a tab that carried its edits).
    const writer = new Y.Doc();
    writer.clientID = 1;
    const writes: Uint8Array[] = [];
    writer.on('update', (u: Uint8Array) => writes.push(u));
    writer.getText('t').insert(0, 'a');
    writer.getText('t').insert(1, 'b');
    writer.getText('t').insert(2, 'c');
    const next = writes[2]!;
    const other = new FakeConnection();
    room.addConnection(other);
    room.receive(other, encodeUpdateMessage(next));
    expect(room.doc.getText('t').toString()).toBe('ab');
    room.removeConnection(owner);
    expect(room.doc.getText('t').toString()).toBe('abc');
  });

  it('takes Yjs\'s own follow-up transactions as part of the change (formatting clean-up), tagged and stored', async () => {
    const { room, store, metrics } = await loadRoom({ untagged: 'throw' });
    const a = new FakeConnection();
    room.addConnection(a);
    // Two replicas format overlapping ranges concurrently; integrating the second makes Y.Text
    // clean up redundant formatting in a transaction of its own, with no origin.
    const base = new Y.Doc();
    base.getText('t').insert(0, 'hello world');
    const one = new Y.Doc();
    const two = new Y.Doc();
    Y.applyUpdate(one, Y.encodeStateAsUpdate(base));
    Y.applyUpdate(two, Y.encodeStateAsUpdate(base));
    one.getText('t').format(0, 5, { em: true });
    two.getText('t').format(0, 5, { em: true });
    room.receive(a, encodeUpdateMessage(Y.encodeStateAsUpdate(base)));
    room.receive(a, encodeUpdateMessage(Y.encodeStateAsUpdate(one)));
    room.receive(a, encodeUpdateMessage(Y.encodeStateAsUpdate(two)));
    expect(metrics.integrityCounts.untaggedChanges).toBe(0);
    await room.saver.whenIdle();
    const stored = new Y.Doc();
    for (const u of (await store.load(room.docId)).updates) Y.applyUpdate(stored, u);
    expect(Y.encodeStateAsUpdate(stored)).toEqual(Y.encodeStateAsUpdate(room.doc));
  });

  it('fails a change whose overlapping struct Yjs would re-anchor into another list (text into an attribute)', async () => {
    const corrupted = vi.fn();
    const { room, store } = await loadRoom({ onCorrupted: corrupted });
    const writer = new Y.Doc();
    writer.clientID = 5;
    writer.getText('title').insert(0, 'ab'); // 5:0-1
    const heading = new Y.XmlElement('heading');
    writer.getXmlFragment('prosemirror').insert(0, [heading]); // 5:2
    heading.setAttribute('level', '1' as never); // 5:3
    const honest = Y.encodeStateAsUpdate(writer);
    const [a, b] = [new FakeConnection(), new FakeConnection()];
    room.addConnection(a);
    room.addConnection(b);
    room.receive(a, encodeUpdateMessage(honest));
    // Client 5's history again from clock 0, as one string in the title, one clock longer: Yjs
    // skips the known clocks and anchors the rest on 5:3, the heading's attribute.
    const forger = new Y.Doc();
    forger.clientID = 5;
    forger.getText('title').insert(0, 'wxyzq');
    const forged = Y.encodeStateAsUpdate(forger);
    expect(checkUpdate(room.doc, forged)).toMatchObject({ complete: true });
    expect(() => room.receive(a, encodeUpdateMessage(forged))).toThrow(ProtocolError);
    expect(corrupted).toHaveBeenCalledTimes(1);
    expect(b.syncUpdates()).toEqual([honest]);
    await room.saver.whenIdle();
    expect(store.appended).toEqual([honest]);
  });

  it('stores and relays a change made around the tagged path, and counts it', async () => {
    const { room, store, metrics } = await loadRoom({ untagged: 'store' });
    const b = new FakeConnection();
    room.addConnection(b);
    room.doc.getText('t').insert(0, 'untagged');
    expect(metrics.integrityCounts.untaggedChanges).toBe(1);
    expect(b.syncUpdates()).toHaveLength(1);
    await room.saver.whenIdle();
    expect(store.appended).toHaveLength(1);
  });

  it('reports an untagged change as an error in tests', async () => {
    expect(DEFAULT_UNTAGGED_CHANGE_POLICY).toBe('throw');
    const { room } = await loadRoom({ untagged: 'throw' });
    const thrown = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      vi.spyOn(globalThis, 'queueMicrotask').mockImplementationOnce((task) =>
        original(() => {
          try {
            task();
          } catch (err) {
            resolve(err);
          }
        }),
      );
    });
    room.doc.getText('t').insert(0, 'untagged');
    expect(String(await thrown)).toMatch(/untagged change/);
    vi.restoreAllMocks();
  });
});
