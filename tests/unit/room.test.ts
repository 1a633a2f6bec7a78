/** Room logic with fake connections: origins, no echo, presence, and save-before-unload. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import { pino } from 'pino';
import { Room } from '../../server/relay/Room';
import { newClientOrigin, type ClientOrigin } from '../../server/relay/origins';
import type { RoomConnection } from '../../server/relay/RoomConnection';
import { ConnectionError, ProtocolError } from '../../server/relay/errors';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import type { DocumentStore } from '../../server/storage/DocumentStore';
import { GatedStore } from '../support/gatedStore';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { ACK_MESSAGE_TYPE, decodeMarkStored, decodeStoredAck, encodeMark, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import { newDocId } from '../../lib/ids';

const log = pino({ level: 'silent' });

class FakeConnection implements RoomConnection {
  readonly origin: ClientOrigin = newClientOrigin();
  constructor(
    readonly canEdit = true,
    readonly wantsAcks = false,
  ) {}
  readonly received: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  send(message: Uint8Array): void {
    this.received.push(message);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  /** Applies every sync frame received so far to `doc` (what a real client would do). */
  applyTo(doc: Y.Doc): void {
    for (const frame of this.received) {
      const decoder = decoding.createDecoder(frame);
      if (decoding.readVarUint(decoder) !== MessageType.sync) continue;
      syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), doc, 'server');
    }
  }
  syncUpdatesReceived(): number {
    return this.received.filter((f) => {
      const d = decoding.createDecoder(f);
      return decoding.readVarUint(d) === MessageType.sync && decoding.readVarUint(d) === syncProtocol.messageYjsUpdate;
    }).length;
  }
}

/** A store whose appends fail until `healthy` is set. */
class FlakyStore extends MemoryStore {
  healthy = false;
  failures = 0;
  override async append(docId: string, updates: Uint8Array[]): Promise<number> {
    if (!this.healthy) {
      this.failures++;
      throw new Error('disk unavailable (simulated)');
    }
    return super.append(docId, updates);
  }
}

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

const rooms: Room[] = [];
async function loadRoom(store: DocumentStore = new MemoryStore(), docId = newDocId(), limits = { maxDocumentBytes: 1 << 20, maxPendingBytes: 1 << 16 }) {
  const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
  const room = await Room.load(docId, {
    store,
    log,
    metrics,
    saverOptions: { compactAfterUpdates: 3, compactAfterBytes: 1 << 20, retryDelayMs: 5, maxRetryDelayMs: 20 },
    limits,
  });
  rooms.push(room);
  return { room, store, docId };
}

afterEach(() => {
  for (const room of rooms.splice(0)) room.destroy();
});

describe('Room', () => {
  it('starts the handshake with sync step 1', async () => {
    const { room } = await loadRoom();
    const conn = new FakeConnection();
    room.addConnection(conn);
    const d = decoding.createDecoder(conn.received[0]!);
    expect(decoding.readVarUint(d)).toBe(MessageType.sync);
    expect(decoding.readVarUint(d)).toBe(syncProtocol.messageYjsSyncStep1);
  });

  it('relays an update to every other connection, never back to its sender', async () => {
    const { room } = await loadRoom();
    const [a, b, c] = [new FakeConnection(), new FakeConnection(), new FakeConnection()];
    for (const conn of [a, b, c]) room.addConnection(conn);
    room.receive(a, encodeUpdateMessage(textUpdate('from a')));
    expect(a.syncUpdatesReceived()).toBe(0);
    expect(b.syncUpdatesReceived()).toBe(1);
    expect(c.syncUpdatesReceived()).toBe(1);
    const doc = new Y.Doc();
    b.applyTo(doc);
    expect(doc.getText('t').toString()).toBe('from a');
  });

  it('answers sync step 1 with the missing state', async () => {
    const { room } = await loadRoom();
    const writer = new FakeConnection();
    room.addConnection(writer);
    room.receive(writer, encodeUpdateMessage(textUpdate('stored text')));
    const reader = new FakeConnection();
    room.addConnection(reader);
    const step1 = encoding.createEncoder();
    encoding.writeVarUint(step1, MessageType.sync);
    syncProtocol.writeSyncStep1(step1, new Y.Doc());
    room.receive(reader, encoding.toUint8Array(step1));
    const doc = new Y.Doc();
    reader.applyTo(doc);
    expect(doc.getText('t').toString()).toBe('stored text');
  });

  it('stores client changes but not what it loaded from storage', async () => {
    const store = new MemoryStore();
    const docId = newDocId();
    await store.append(docId, [textUpdate('old')]);
    const appendSpy = vi.spyOn(store, 'append');
    const { room } = await loadRoom(store, docId);
    expect(room.doc.getText('t').toString()).toBe('old');
    await room.saver.whenIdle();
    expect(appendSpy).not.toHaveBeenCalled();
    const conn = new FakeConnection();
    room.addConnection(conn);
    room.receive(conn, encodeUpdateMessage(textUpdate('new')));
    await room.saver.whenIdle();
    expect(appendSpy).toHaveBeenCalledTimes(1);
  });

  it('compacts the log once enough updates were stored', async () => {
    const { room, store, docId } = await loadRoom();
    const conn = new FakeConnection();
    room.addConnection(conn);
    for (const word of ['one', 'two', 'three', 'four']) room.receive(conn, encodeUpdateMessage(textUpdate(word)));
    await room.saver.whenIdle();
    const stored = await store.load(docId);
    expect(stored.updates.length).toBe(1); // one batch of 4 ≥ 3 → snapshot only
    const doc = new Y.Doc();
    for (const u of stored.updates) Y.applyUpdate(doc, u);
    expect(doc.getText('t').toString()).toBe(room.doc.getText('t').toString());
  });

  it('is not unloadable until its changes are stored, and retries failed saves', async () => {
    const store = new FlakyStore();
    const { room, docId } = await loadRoom(store);
    const conn = new FakeConnection();
    room.addConnection(conn);
    room.receive(conn, encodeUpdateMessage(textUpdate('precious')));
    room.removeConnection(conn);
    await vi.waitFor(() => expect(store.failures).toBeGreaterThanOrEqual(2));
    expect(room.unloadable).toBe(false);
    store.healthy = true;
    await room.saver.whenIdle();
    expect(room.unloadable).toBe(true);
    const doc = new Y.Doc();
    for (const u of (await store.load(docId)).updates) Y.applyUpdate(doc, u);
    expect(doc.getText('t').toString()).toBe('precious');
  });

  it('relays presence to everyone, the sender included, and removes it when the sender leaves', async () => {
    const { room } = await loadRoom();
    const [a, b] = [new FakeConnection(), new FakeConnection()];
    room.addConnection(a);
    room.addConnection(b);
    const clientDoc = new Y.Doc();
    const clientAwareness = new awarenessProtocol.Awareness(clientDoc);
    clientAwareness.setLocalStateField('user', { name: 'Ada', color: '#f00' });
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, MessageType.awareness);
    encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(clientAwareness, [clientDoc.clientID]));
    room.receive(a, encoding.toUint8Array(enc));
    expect(room.awareness.getStates().get(clientDoc.clientID)).toEqual({ user: { name: 'Ada', color: '#f00' } });
    const awarenessFrames = (c: FakeConnection) => c.received.filter((f) => f[0] === MessageType.awareness).length;
    expect(awarenessFrames(a)).toBe(1);
    expect(awarenessFrames(b)).toBe(1);
    room.removeConnection(a);
    expect(room.awareness.getStates().has(clientDoc.clientID)).toBe(false);
    expect(awarenessFrames(b)).toBe(2); // the removal
    clientAwareness.destroy();
  });

  it('rejects malformed frames with a ProtocolError and changes nothing', async () => {
    const { room } = await loadRoom();
    const conn = new FakeConnection();
    room.addConnection(conn);
    const before = Y.encodeStateVector(room.doc);
    expect(() => room.receive(conn, new Uint8Array([]))).toThrow(ProtocolError);
    expect(() => room.receive(conn, new Uint8Array([99]))).toThrow(ProtocolError);
    expect(() => room.receive(conn, new Uint8Array([MessageType.sync, 7]))).toThrow(ProtocolError); // unknown sync step
    expect(Y.encodeStateVector(room.doc)).toEqual(before);
  });

  it('refuses document changes from a view-only connection and tells it so', async () => {
    const { room, store, docId } = await loadRoom();
    const [viewer, editor] = [new FakeConnection(false), new FakeConnection(true)];
    room.addConnection(viewer);
    room.addConnection(editor);
    const before = Y.encodeStateVector(room.doc);
    const step2 = encoding.createEncoder();
    encoding.writeVarUint(step2, MessageType.sync);
    encoding.writeVarUint(step2, syncProtocol.messageYjsSyncStep2);
    encoding.writeVarUint8Array(step2, textUpdate('sneaky'));
    room.receive(viewer, encodeUpdateMessage(textUpdate('sneaky')));
    room.receive(viewer, encoding.toUint8Array(step2));
    expect(Y.encodeStateVector(room.doc)).toEqual(before);
    expect(editor.syncUpdatesReceived()).toBe(0);
    expect(viewer.received.filter((f) => f[0] === MessageType.auth)).toHaveLength(2);
    await room.saver.whenIdle();
    expect((await store.load(docId)).updates).toHaveLength(0);
    // Positive control: the same update over an edit connection changes the document.
    room.receive(editor, encodeUpdateMessage(textUpdate('sneaky')));
    expect(room.doc.getText('t').toString()).toBe('sneaky');
    expect(viewer.syncUpdatesReceived()).toBe(1);
  });

  it('closes a connection that would grow the document past its cap', async () => {
    const { room } = await loadRoom(undefined, undefined, { maxDocumentBytes: 200, maxPendingBytes: 1 << 16 });
    const conn = new FakeConnection();
    room.addConnection(conn);
    room.receive(conn, encodeUpdateMessage(textUpdate('small')));
    const big = () => room.receive(conn, encodeUpdateMessage(textUpdate('x'.repeat(500))));
    expect(big).toThrow(ConnectionError);
    try {
      big();
    } catch (err) {
      expect((err as ConnectionError).closeCode).toBe(CloseCode.documentTooLarge);
    }
    expect(room.doc.getText('t').toString()).toBe('small');
  });

  it('drops update data whose dependencies never arrive once it exceeds the pending cap', async () => {
    const { room } = await loadRoom(undefined, undefined, { maxDocumentBytes: 1 << 20, maxPendingBytes: 100 });
    const conn = new FakeConnection();
    room.addConnection(conn);
    const source = new Y.Doc();
    source.getText('t').insert(0, 'base');
    const sv = Y.encodeStateVector(source);
    source.getText('t').insert(4, 'y'.repeat(300));
    const orphan = Y.encodeStateAsUpdate(source, sv); // depends on 'base', which the room lacks
    expect(() => room.receive(conn, encodeUpdateMessage(orphan))).toThrow(ConnectionError);
    expect(room.doc.store.pendingStructs).toBeNull();
  });

  it('acknowledges an edit to connections that negotiated acks only once it is stored', async () => {
    const store = new GatedStore();
    store.appends.gate.hold();
    const { room } = await loadRoom(store);
    const [extended, stock] = [new FakeConnection(true, true), new FakeConnection(true, false)];
    room.addConnection(extended);
    room.addConnection(stock);
    const acks = () => extended.received.filter((f) => f[0] === ACK_MESSAGE_TYPE).map((f) => Y.decodeStateVector(decodeStoredAck(f)!));
    expect(acks()).toHaveLength(1); // the handshake's: nothing stored yet
    const source = new Y.Doc();
    source.getText('t').insert(0, 'precious');
    const writing = store.appends.next();
    room.receive(extended, encodeUpdateMessage(Y.encodeStateAsUpdate(source)));
    await writing;
    expect(acks()).toHaveLength(1); // received, relayed and being written, but not stored: no ack
    store.appends.gate.release();
    await room.saver.whenIdle();
    const last = acks().at(-1)!;
    expect(last.get(source.clientID)).toBe(8);
    expect(stock.received.some((f) => f[0] === ACK_MESSAGE_TYPE)).toBe(false);
  });

  it('answers a mark only once everything sent before it is stored, deletions included', async () => {
    const store = new GatedStore();
    const { room } = await loadRoom(store);
    const [client, stock] = [new FakeConnection(true, true), new FakeConnection(true, false)];
    room.addConnection(client);
    room.addConnection(stock);
    const answers = () => client.received.map(decodeMarkStored).filter((m) => m !== null).map((m) => m.id);

    // Nothing queued: answered at once.
    room.receive(client, encodeMark(1));
    expect(answers()).toEqual([1]);

    const source = new Y.Doc();
    source.getText('t').insert(0, 'precious');
    room.receive(client, encodeUpdateMessage(Y.encodeStateAsUpdate(source)));
    await room.saver.whenIdle();
    // A pure deletion: the stored state vector cannot show it, the mark must.
    store.appends.gate.hold();
    const writing = store.appends.next();
    const before = Y.encodeStateVector(source);
    source.getText('t').delete(0, 3);
    room.receive(client, encodeUpdateMessage(Y.encodeStateAsUpdate(source, before)));
    room.receive(client, encodeMark(2));
    await writing;
    expect(answers()).toEqual([1]); // received, applied and being written, not stored: no answer yet
    store.appends.gate.release();
    await room.saver.whenIdle();
    expect(answers()).toEqual([1, 2]);
    const stored = new Y.Doc();
    for (const u of store.appended) Y.applyUpdate(stored, u);
    expect(stored.getText('t').toString()).toBe('cious');

    // Stock clients never negotiated the extension: the type is unknown to them.
    expect(() => room.receive(stock, encodeMark(3))).toThrow(ProtocolError);
    expect(stock.received.some((f) => f[0] === MARK_MESSAGE_TYPE)).toBe(false);
  });
});
