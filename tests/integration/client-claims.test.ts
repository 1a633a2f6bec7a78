/**
 * Client-id claims (protocol extension v3, lib/protocol/clientClaims.ts) through the real relay:
 * an editor's client id, once claimed, is written by nobody else — not while the editor is away,
 * not after the server restarted — so a forged edit can never take the clocks the editor typed
 * offline (issue #15: that split replicas with equal state vectors for good).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION } from '../../lib/protocol/ackExtension';
import { CLIENT_CLAIMS_MAP, clientClaimsMap, encodeClientClaim } from '../../lib/protocol/clientClaims';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { documentDigest, equalBytes } from '../../lib/protocol/documentDigest';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { connectClient, connectEditorClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket, type RawSocket } from '../support/rawSocket';
import { TempDirs } from '../support/tempDirs';

const dirs = new TempDirs();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

async function start(dataDir: string, port = 0): Promise<RunningServer> {
  const server = await startServer({ port, host: '127.0.0.1', dataDir, next: false, logLevel: 'silent' });
  cleanups.push(() => server.close()); // close() is idempotent: a test may close it first.
  return server;
}

function track<T extends NodeClient>(client: T): T {
  cleanups.push(() => client.destroy());
  return client;
}

async function raw(server: RunningServer, docId: string, token: string, extension = true): Promise<RawSocket> {
  const query = extension ? `&${CONCORD_PROTOCOL_PARAM}=${CONCORD_PROTOCOL_VERSION}` : '';
  const socket = openRawSocket(`${server.wsUrl}/${docId}?token=${token}${query}`);
  cleanups.push(() => socket.ws.close());
  await socket.opened;
  return socket;
}

/** Sends `frame`, then a presence query: resolves once the relay handled the frame ('closed' if it closed the socket). */
async function handled(socket: RawSocket, frame: Uint8Array): Promise<'matched' | 'closed'> {
  const answered = socket.waitFor((f) => f[0] === MessageType.awareness);
  socket.send(frame);
  socket.send(new Uint8Array([MessageType.queryAwareness]));
  return answered;
}

/** New title text under `clientId`, on top of `base` (what the relay holds): an edit forged in that id's name. */
function forgedTitleEdit(base: Uint8Array, clientId: number, text: string): Uint8Array {
  const forger = new Y.Doc();
  Y.applyUpdate(forger, base);
  const before = Y.encodeStateVector(forger);
  forger.clientID = clientId;
  forger.getText('title').insert(0, text);
  return Y.encodeStateAsUpdate(forger, before);
}

const titleOf = (doc: Y.Doc) => doc.getText('title').toString();

/** A fresh server and document whose one client (`connect`ed) wrote `title`, which the relay holds. */
async function documentTitled<C extends NodeClient>(title: string, connect: (wsUrl: string, docId: string, token: string) => C) {
  const server = await start(dirs.make('concord-claims-'));
  const caps = mintDocument();
  const client = track(connect(server.wsUrl, caps.docId, caps.edit));
  await client.synced;
  client.doc.getText('title').insert(0, title);
  const room = () => server.relay.loadedRoom(caps.docId)!;
  await vi.waitFor(() => expect(titleOf(room().doc)).toBe(title));
  return { server, caps, client, room };
}

describe('client-id claims', () => {
  it('keeps an editor\'s id its own while it is offline and across a restart: a forged edit of its next clocks never lands', async () => {
    const dataDir = dirs.make('concord-claims-');
    let server = await start(dataDir);
    const caps = mintDocument();
    const editor = track(connectEditorClient(server.wsUrl, caps.docId, caps.edit));
    await editor.synced;
    const id = editor.doc.clientID;
    editor.doc.getText('title').insert(0, 'draft');
    await vi.waitFor(() => expect(titleOf(server.relay.loadedRoom(caps.docId)!.doc)).toBe('draft'));
    expect(clientClaimsMap(server.relay.loadedRoom(caps.docId)!.doc).has(String(id))).toBe(true);
    expect(editor.claims.ids).toEqual([id]);

    // The editor goes offline and types on; the server restarts meanwhile.
    editor.provider.disconnect();
    editor.doc.getText('title').insert(5, ' typed offline');
    await server.close();
    // On the same port: the editor's provider reconnects to the address it has.
    server = await start(dataDir, server.port);

    // Someone with the edit link writes the next clocks of the editor's id (a stock client: no claim).
    const watcher = track(connectClient(server.wsUrl, caps.docId, caps.edit));
    await watcher.synced;
    expect(titleOf(watcher.doc)).toBe('draft');
    const attacker = await raw(server, caps.docId, caps.edit, false);
    const forged = forgedTitleEdit(Y.encodeStateAsUpdate(watcher.doc), id, 'EVIL ');
    expect(await handled(attacker, encodeUpdateMessage(forged))).toBe('matched');
    // Handled, and held back: the id is claimed and the attacker did not prove it.
    const room = server.relay.loadedRoom(caps.docId)!;
    expect(titleOf(room.doc)).toBe('draft');
    expect(Y.getState(room.doc.store, id)).toBe(Y.getState(watcher.doc.store, id));

    // The editor returns: its real clocks land, the forged ones are then known and dropped.
    editor.provider.connect();
    await vi.waitFor(() => expect(titleOf(watcher.doc)).toBe('draft typed offline'));
    expect(titleOf(room.doc)).toBe('draft typed offline');
    expect(titleOf(editor.doc)).toBe('draft typed offline');
    expect(equalBytes(documentDigest(editor.doc), documentDigest(room.doc))).toBe(true);
    expect(equalBytes(documentDigest(watcher.doc), documentDigest(room.doc))).toBe(true);
  });

  it('without a claim, the same forgery lands once the owner left (why stock clients are only protected while connected)', async () => {
    const { server, caps, client: stock, room } = await documentTitled('draft', connectClient);
    const watcher = track(connectClient(server.wsUrl, caps.docId, caps.edit));
    await watcher.synced;
    const attacker = await raw(server, caps.docId, caps.edit, false);
    const forged = forgedTitleEdit(Y.encodeStateAsUpdate(room().doc), stock.doc.clientID, 'EVIL ');
    // While the owner is connected the forgery waits…
    expect(await handled(attacker, encodeUpdateMessage(forged))).toBe('matched');
    expect(titleOf(room().doc)).toBe('draft');
    // …and lands when it leaves: nothing marks the id as anyone's.
    stock.provider.disconnect();
    await vi.waitFor(() => expect(titleOf(watcher.doc)).toBe('EVIL draft'));
    expect(clientClaimsMap(room().doc).size).toBe(0);
  });

  it('refuses a claim with the wrong secret (4409) and ignores claims over view links and on ids with unclaimed history', async () => {
    const { server, caps, client: editor, room } = await documentTitled('mine', connectEditorClient);

    const wrong = await raw(server, caps.docId, caps.edit);
    wrong.send(encodeClientClaim(editor.doc.clientID, new Uint8Array(16).fill(7)));
    expect((await wrong.closed).code).toBe(CloseCode.clientIdTaken);

    // A view link's claim writes nothing.
    const viewer = await raw(server, caps.docId, caps.view);
    expect(await handled(viewer, encodeClientClaim(424242, new Uint8Array(16).fill(1)))).toBe('matched');
    expect(clientClaimsMap(room().doc).has('424242')).toBe(false);

    // A stock client's id already has history: nobody can claim it away from it.
    const stock = track(connectClient(server.wsUrl, caps.docId, caps.edit));
    await stock.synced;
    stock.doc.getText('title').insert(0, 'stock ');
    await vi.waitFor(() => expect(titleOf(room().doc)).toBe('stock mine'));
    const claimer = await raw(server, caps.docId, caps.edit);
    expect(await handled(claimer, encodeClientClaim(stock.doc.clientID, new Uint8Array(16).fill(2)))).toBe('matched');
    expect(clientClaimsMap(room().doc).has(String(stock.doc.clientID))).toBe(false);
    expect(Array.from(clientClaimsMap(room().doc).keys())).toEqual([String(editor.doc.clientID)]);

    // Malformed: a secret too short.
    const malformed = await raw(server, caps.docId, caps.edit);
    malformed.send(encodeClientClaim(5, new Uint8Array(4)));
    expect((await malformed.closed).code).toBe(CloseCode.malformedMessage);
  });

  it('refuses client updates that write, overwrite or delete a claim, and keeps the claims intact', async () => {
    const { server, caps, client: editor, room } = await documentTitled('mine', connectEditorClient);
    await vi.waitFor(() => expect(clientClaimsMap(editor.doc).size).toBe(1));
    const key = String(editor.doc.clientID);
    const fingerprint = clientClaimsMap(room().doc).get(key);

    const attempts: [string, (forger: Y.Doc) => void][] = [
      ['a new claim', (d) => d.getMap(CLIENT_CLAIMS_MAP).set('777', 'forged')],
      ['an overwritten claim', (d) => d.getMap(CLIENT_CLAIMS_MAP).set(key, 'forged')],
      ['a deleted claim', (d) => d.getMap(CLIENT_CLAIMS_MAP).delete(key)],
    ];
    for (const [what, change] of attempts) {
      const forger = new Y.Doc();
      Y.applyUpdate(forger, Y.encodeStateAsUpdate(room().doc));
      const before = Y.encodeStateVector(forger);
      change(forger);
      const socket = await raw(server, caps.docId, caps.edit);
      const outcome = await handled(socket, encodeUpdateMessage(Y.encodeStateAsUpdate(forger, before)));
      expect(outcome, what).toBe('closed');
      expect((await socket.closed).code, what).toBe(CloseCode.malformedMessage);
      await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)).toBeDefined());
    }
    await editor.synced;
    // The claim is as recorded, in memory and in what a new client receives.
    await vi.waitFor(async () => {
      const fresh = track(connectClient(server.wsUrl, caps.docId, caps.edit));
      await fresh.synced;
      expect(Array.from(clientClaimsMap(fresh.doc).entries())).toEqual([[key, fingerprint]]);
    });
  });
});
