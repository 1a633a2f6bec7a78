/**
 * Per-turn batching through a real server: bursts from several writers that the relay reads in
 * the same turn reach every reader complete and in a form stock clients apply, a writer never
 * gets its own updates back, and presence still reaches its sender.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket, type RawSocket } from '../support/rawSocket';

let server: RunningServer;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', store: new MemoryStore(), next: false, logLevel: 'silent' });
});
afterAll(async () => {
  for (const close of closers.splice(0)) close();
  await server.close();
});

function raw(docId: string, token: string): RawSocket {
  const socket = openRawSocket(`${server.wsUrl}/${docId}?token=${token}`);
  closers.push(() => socket.ws.terminate());
  return socket;
}

function stock(docId: string, token: string): NodeClient {
  const client = connectClient(server.wsUrl, docId, token);
  closers.push(() => client.destroy());
  return client;
}

/** Client IDs of every struct in the sync updates `socket` received. */
function authorsReceived(socket: RawSocket): Set<number> {
  const authors = new Set<number>();
  for (const frame of socket.received) {
    const d = decoding.createDecoder(frame);
    if (decoding.readVarUint(d) !== MessageType.sync || decoding.readVarUint(d) !== syncProtocol.messageYjsUpdate) continue;
    for (const struct of Y.decodeUpdate(decoding.readVarUint8Array(d)).structs) authors.add(struct.id.client);
  }
  return authors;
}

describe('per-turn batching', () => {
  it('delivers bursts from several writers completely, with no echo, to stock clients', async () => {
    const caps = mintDocument();
    const readers = [stock(caps.docId, caps.view), stock(caps.docId, caps.view)];
    await Promise.all(readers.map((r) => r.synced));
    const writers = [raw(caps.docId, caps.edit), raw(caps.docId, caps.edit), raw(caps.docId, caps.edit)];
    await Promise.all(writers.map((w) => w.waitFor((f) => f[0] === MessageType.sync)));
    const replicas = writers.map(() => new Y.Doc());
    const words: string[] = [];
    for (let round = 0; round < 20; round++) {
      // Each writer sends a burst of three updates at once; all writers in the same tick.
      writers.forEach((w, n) => {
        for (let k = 0; k < 3; k++) {
          const doc = replicas[n]!;
          const before = Y.encodeStateVector(doc);
          const word = `w${n}r${round}k${k}`;
          words.push(word);
          doc.getText('t').insert(doc.getText('t').length, `${word} `);
          w.send(encodeUpdateMessage(Y.encodeStateAsUpdate(doc, before)));
        }
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await vi.waitFor(() => {
      for (const r of readers) for (const word of words) expect(r.doc.getText('t').toString()).toContain(word);
    });
    expect(readers[1]!.doc.getText('t').toString()).toBe(readers[0]!.doc.getText('t').toString());
    // Every writer heard the other two, never itself.
    await vi.waitFor(() => writers.forEach((w, n) => expect(authorsReceived(w)).toEqual(new Set(replicas.filter((_, m) => m !== n).map((d) => d.clientID)))));
  });

  it('still sends presence back to its sender', async () => {
    const caps = mintDocument();
    const socket = raw(caps.docId, caps.edit);
    await socket.waitFor((f) => f[0] === MessageType.sync);
    const presence = new awarenessProtocol.Awareness(new Y.Doc());
    presence.setLocalStateField('user', { name: 'Ada' });
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, MessageType.awareness);
    encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(presence, [presence.clientID]));
    socket.send(encoding.toUint8Array(enc));
    expect(await socket.waitFor((f) => f[0] === MessageType.awareness)).toBe('matched');
    presence.destroy();
  });
});
