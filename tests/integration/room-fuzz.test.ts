/**
 * Issue #15, deterministic: the hostile-edit generator's frames go straight into a Room (fake
 * connections, no sockets, so the same seed replays the same run), two honest replicas type
 * between them, and after every frame the relay's document, what its own encoding reproduces,
 * and both honest replicas must be identical. A change that fails half-way reloads the room from
 * storage, as the relay does.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { pino } from 'pino';
import { Room } from '../../server/relay/Room';
import { newClientOrigin, type ClientOrigin } from '../../server/relay/origins';
import type { RoomConnection } from '../../server/relay/RoomConnection';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { newDocId } from '../../lib/ids';
import { HostileEdits } from '../support/hostileEdits';
import { seededRandom } from '../support/fuzzFrames';

const FRAMES = 2_000;
const SEED = 7;
const ATTACKERS = 8;

/** A connection whose replica applies what the room sends it (null: an attacker that ignores it). */
class Replica implements RoomConnection {
  readonly origin: ClientOrigin = newClientOrigin();
  readonly canEdit = true;
  readonly wantsAcks = false;
  closed = false;
  constructor(readonly doc: Y.Doc | null) {}
  send(message: Uint8Array): void {
    if (!this.doc) return;
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MessageType.sync) return;
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), this.doc, 'relay');
  }
  close(): void {
    this.closed = true;
  }
}

const shown = (doc: Y.Doc) => `${doc.getXmlFragment('prosemirror').toString()}|${doc.getText('title').toString()}`;

describe('hostile edits straight into a room', () => {
  it(`keeps the room, its encoding and the honest replicas identical after every one of ${FRAMES} frames`, { timeout: 120_000 }, async () => {
    const docId = newDocId();
    const store = new MemoryStore();
    let corrupted = false;
    const load = () =>
      Room.load(docId, {
        store,
        log: pino({ level: 'silent' }),
        metrics: new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false),
        limits: { maxDocumentBytes: 1 << 26, maxPendingBytes: 1 << 20 },
        saverOptions: { compactAfterUpdates: 500, compactAfterBytes: 1 << 22, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 0 },
        untaggedChanges: 'store',
        onCorrupted: () => {
          corrupted = true;
        },
      });
    let room = await load();
    const honest = [111111, 222222].map((id) => {
      const doc = new Y.Doc();
      doc.clientID = id;
      return new Replica(doc);
    });
    for (const replica of honest) room.addConnection(replica);
    let attackers = Array.from({ length: ATTACKERS }, () => new Replica(null));
    for (const attacker of attackers) room.addConnection(attacker);
    const generator = new HostileEdits(SEED);
    const random = seededRandom(SEED + 1);
    let refused = 0;
    let reloads = 0;
    let accepted = 0;

    for (let i = 0; i < FRAMES; i++) {
      const typist = honest[i % 2]!;
      const before = Y.encodeStateVector(typist.doc!);
      const body = typist.doc!.getXmlFragment('prosemirror');
      const paragraph = new Y.XmlElement('paragraph');
      const words = new Y.XmlText();
      words.insert(0, `h${i % 2}w${i} `);
      paragraph.insert(0, [words]);
      body.insert(Math.floor(random() * (body.length + 1)), [paragraph]);
      room.receive(typist, encodeUpdateMessage(Y.encodeStateAsUpdate(typist.doc!, before)));

      const edit = generator.next(() => Y.encodeStateAsUpdate(honest[0]!.doc!));
      const slot = Math.floor(random() * attackers.length);
      const attacker = attackers[slot]!;
      try {
        room.receive(attacker, encodeUpdateMessage(edit.update));
        accepted++;
      } catch {
        refused++;
        room.removeConnection(attacker);
        attackers[slot] = new Replica(null);
        if (!corrupted) room.addConnection(attackers[slot]!);
      }
      if (corrupted) {
        // As the relay does: store what came before, load a fresh copy, everyone resyncs.
        corrupted = false;
        reloads++;
        await room.saver.whenIdle();
        room.destroy();
        room = await load();
        for (const replica of honest) {
          room.addConnection(replica);
          room.receive(replica, encodeUpdateMessage(Y.encodeStateAsUpdate(replica.doc!)));
        }
        for (const replica of honest) Y.applyUpdate(replica.doc!, Y.encodeStateAsUpdate(room.doc), 'relay');
        attackers = attackers.map(() => new Replica(null));
        for (const a of attackers) room.addConnection(a);
        continue;
      }
      const relay = shown(room.doc);
      const reproduced = new Y.Doc();
      Y.applyUpdate(reproduced, Y.encodeStateAsUpdate(room.doc));
      const context = `after frame ${i} (${edit.kind}: ${edit.mutations.join(', ')})`;
      expect(shown(reproduced), context).toBe(relay);
      expect(shown(honest[0]!.doc!), context).toBe(relay);
      expect(shown(honest[1]!.doc!), context).toBe(relay);
      expect(Y.encodeStateVector(honest[0]!.doc!), context).toEqual(Y.encodeStateVector(room.doc));
    }
    console.log(`room fuzz, seed ${SEED}: ${FRAMES} frames, ${accepted} accepted, ${refused} refused, ${reloads} reloads after a failed change`);
    // Not vacuous: both outcomes happen.
    expect(accepted).toBeGreaterThan(FRAMES / 10);
    expect(refused).toBeGreaterThan(FRAMES / 10);
    room.destroy();
  });
});
