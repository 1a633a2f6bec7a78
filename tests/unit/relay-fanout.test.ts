/**
 * Per-turn fan-out (a Room given a SendBatcher, as the relay runs it), with fake connections:
 * nothing goes out before the end of the turn; then each connection that sent nothing gets the
 * turn's updates merged into one message, each sender gets the others' updates in order and
 * never its own, presence goes to everyone as one message after the content, and every replica
 * ends equal to the room's document.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import { pino } from 'pino';
import { Room } from '../../server/relay/Room';
import { SendBatcher } from '../../server/relay/SendBatcher';
import { newClientOrigin, type ClientOrigin } from '../../server/relay/origins';
import type { RoomConnection } from '../../server/relay/RoomConnection';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { newDocId } from '../../lib/ids';
import { seededRandom } from '../support/fuzzFrames';

const log = pino({ level: 'silent' });

/** A client replica behind a fake connection: applies what the room sends it, as a real client would. */
class FakeClient implements RoomConnection {
  readonly origin: ClientOrigin = newClientOrigin();
  readonly canEdit = true;
  readonly wantsAcks = false;
  readonly doc = new Y.Doc();
  readonly received: Uint8Array[] = [];
  send(message: Uint8Array): void {
    this.received.push(message);
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) === MessageType.sync) {
      syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), this.doc, 'server');
    }
  }
  close(): void {}
  /** Makes a local change and returns the frame a client would send for it. */
  edit(change: (doc: Y.Doc) => void): Uint8Array {
    const before = Y.encodeStateVector(this.doc);
    change(this.doc);
    return encodeUpdateMessage(Y.encodeStateAsUpdate(this.doc, before));
  }
  /** Sync update frames received, decoded. */
  updates(): Uint8Array[] {
    return this.received.flatMap((frame) => {
      const d = decoding.createDecoder(frame);
      if (decoding.readVarUint(d) !== MessageType.sync || decoding.readVarUint(d) !== syncProtocol.messageYjsUpdate) return [];
      return [decoding.readVarUint8Array(d)];
    });
  }
  /** Client IDs whose structs appear in the updates this connection received. */
  authorsReceived(): Set<number> {
    const authors = new Set<number>();
    for (const update of this.updates()) for (const struct of Y.decodeUpdate(update).structs) authors.add(struct.id.client);
    return authors;
  }
}

const rooms: Room[] = [];
afterEach(() => {
  for (const room of rooms.splice(0)) room.destroy();
});

async function loadBatchedRoom() {
  const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
  const room = await Room.load(newDocId(), { store: new MemoryStore(), log, metrics, batcher: new SendBatcher(log) });
  rooms.push(room);
  return room;
}

const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

function join(room: Room, count: number): FakeClient[] {
  const clients = Array.from({ length: count }, () => new FakeClient());
  for (const c of clients) room.addConnection(c);
  return clients;
}

describe('per-turn fan-out', () => {
  it("sends a turn's updates at its end: merged to non-senders, the others' to each sender, never its own", async () => {
    const room = await loadBatchedRoom();
    const [a, b, reader1, reader2] = join(room, 4);
    await endOfTurn();
    const frames = [
      a!.edit((d) => d.getText('t').insert(0, 'A1 ')),
      b!.edit((d) => d.getText('t').insert(0, 'B1 ')),
      a!.edit((d) => d.getText('t').insert(0, 'A2 ')),
    ];
    room.receive(a!, frames[0]!);
    room.receive(b!, frames[1]!);
    room.receive(a!, frames[2]!);
    for (const c of [a, b, reader1, reader2]) expect(c!.updates()).toHaveLength(0);
    await endOfTurn();
    expect(reader1!.updates()).toHaveLength(1); // one merged message for three updates
    expect(reader2!.updates()).toHaveLength(1);
    expect(a!.updates()).toHaveLength(1); // B's only
    expect(b!.updates()).toHaveLength(2); // A1 then A2
    expect(a!.authorsReceived()).toEqual(new Set([b!.doc.clientID]));
    expect(b!.authorsReceived()).toEqual(new Set([a!.doc.clientID]));
    const expected = room.doc.getText('t').toString();
    for (const c of [a, b, reader1, reader2]) expect(c!.doc.getText('t').toString()).toBe(expected);
  });

  it('sends a single update of a turn as it is, to everyone but its sender', async () => {
    const room = await loadBatchedRoom();
    const [a, b] = join(room, 2);
    room.receive(a!, a!.edit((d) => d.getText('t').insert(0, 'solo')));
    await endOfTurn();
    expect(a!.updates()).toHaveLength(0);
    expect(b!.updates()).toHaveLength(1);
    expect(b!.doc.getText('t').toString()).toBe('solo');
  });

  it("sends a turn's presence changes as one message to everyone, after the turn's content", async () => {
    const room = await loadBatchedRoom();
    const [a, b] = join(room, 2);
    await endOfTurn();
    a!.received.length = 0;
    b!.received.length = 0;
    const presence = new awarenessProtocol.Awareness(a!.doc);
    const awarenessFrame = () => {
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MessageType.awareness);
      encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(presence, [a!.doc.clientID]));
      return encoding.toUint8Array(enc);
    };
    presence.setLocalStateField('cursor', 1);
    room.receive(a!, awarenessFrame());
    presence.setLocalStateField('cursor', 2);
    room.receive(a!, awarenessFrame());
    room.receive(a!, a!.edit((d) => d.getText('t').insert(0, 'typed')));
    await endOfTurn();
    const types = (c: FakeClient) => c.received.map((f) => f[0]);
    expect(types(a!)).toEqual([MessageType.awareness]); // the sender hears its presence, not its update
    expect(types(b!)).toEqual([MessageType.sync, MessageType.awareness]); // content first
    const seen = new awarenessProtocol.Awareness(new Y.Doc());
    const d = decoding.createDecoder(b!.received[1]!);
    decoding.readVarUint(d);
    awarenessProtocol.applyAwarenessUpdate(seen, decoding.readVarUint8Array(d), 'test');
    expect(seen.getStates().get(a!.doc.clientID)).toEqual({ cursor: 2 });
    presence.destroy();
    seen.destroy();
  });

  it('converges every replica over random turns of several writers, with no echo', async () => {
    const room = await loadBatchedRoom();
    const clients = join(room, 6);
    const writers = clients.slice(0, 4);
    const random = seededRandom(11);
    for (let turn = 0; turn < 60; turn++) {
      for (const w of writers) {
        const edits = Math.floor(random() * 3); // 0–2 updates from this writer in this turn
        for (let e = 0; e < edits; e++) {
          room.receive(
            w,
            w.edit((d) => {
              const t = d.getText('t');
              if (t.length > 4 && random() < 0.3) t.delete(Math.floor(random() * (t.length - 2)), 2);
              else t.insert(Math.floor(random() * (t.length + 1)), `${w.origin.connectionId}.${turn} `);
            }),
          );
        }
      }
      await endOfTurn();
    }
    const expected = room.doc.getText('t').toString();
    expect(expected.length).toBeGreaterThan(100);
    for (const c of clients) expect(c.doc.getText('t').toString()).toBe(expected);
    for (const w of writers) expect(w.authorsReceived().has(w.doc.clientID)).toBe(false);
  });
});

describe('per-turn fan-out and storage', () => {
  it("writes a turn's updates to the connections before storing them", async () => {
    const receivedWhenStored: number[] = [];
    let reader: FakeClient | null = null;
    class WatchingStore extends MemoryStore {
      override async append(docId: string, updates: Uint8Array[]): Promise<number> {
        receivedWhenStored.push(reader!.updates().length);
        return super.append(docId, updates);
      }
    }
    const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
    const room = await Room.load(newDocId(), { store: new WatchingStore(), log, metrics, batcher: new SendBatcher(log) });
    rooms.push(room);
    const [writer, r] = join(room, 2);
    reader = r!;
    await endOfTurn();
    room.receive(writer!, writer!.edit((d) => d.getText('t').insert(0, 'first')));
    await room.saver.whenIdle();
    room.receive(writer!, writer!.edit((d) => d.getText('t').insert(0, 'second ')));
    await room.saver.whenIdle();
    expect(receivedWhenStored).toEqual([1, 2]);
  });
});
