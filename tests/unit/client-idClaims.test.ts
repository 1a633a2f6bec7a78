/**
 * The editor's client-id claims (lib/client/ClientIdClaims.ts) with a stand-in provider: each
 * claim goes out before the first change of its id on a connection, and the secrets outlive the
 * page (a reload claims the ids whose edits IndexedDB kept).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { ClientIdClaims, REMEMBERED_IDS } from '../../lib/client/ClientIdClaims';
import { CLAIM_MESSAGE_TYPE, decodeClientClaim } from '../../lib/protocol/clientClaims';
import { memoryStorage } from '../support/nodeClient';

/** The parts of y-websocket's provider ClientIdClaims uses, recording what is sent. */
function standInProvider(sent: string[], frames: Uint8Array[]) {
  const listeners = new Set<(event: { status: string }) => void>();
  const ws = { OPEN: 1, readyState: 1, send: (frame: Uint8Array) => (sent.push('claim'), frames.push(frame)) };
  return {
    ws,
    wsconnected: false,
    on: (_name: string, listener: (event: { status: string }) => void) => listeners.add(listener),
    off: (_name: string, listener: (event: { status: string }) => void) => listeners.delete(listener),
    status(status: 'connected' | 'disconnected') {
      this.wsconnected = status === 'connected';
      for (const listener of listeners) listener({ status });
    },
  };
}

describe('ClientIdClaims', () => {
  it('claims an id before the first update of it is sent, once per connection', () => {
    const sent: string[] = [];
    const frames: Uint8Array[] = [];
    const doc = new Y.Doc();
    // Registered first, as the provider's own update handler is.
    doc.on('update', () => sent.push('update'));
    const provider = standInProvider(sent, frames);
    const claims = new ClientIdClaims(doc, provider as unknown as WebsocketProvider, memoryStorage(), 'doc-a');
    provider.status('connected');
    expect(sent).toEqual([]); // nothing of ours yet: nothing to claim
    doc.getText('title').insert(0, 'a');
    doc.getText('title').insert(1, 'b');
    expect(sent).toEqual(['claim', 'update', 'update']);
    expect(decodeClientClaim(frames[0]!)?.clientId).toBe(doc.clientID);
    expect(frames[0]![0]).toBe(CLAIM_MESSAGE_TYPE);

    // Reconnecting claims again, at once: the sync that follows carries the id's history.
    provider.status('disconnected');
    provider.status('connected');
    expect(sent).toEqual(['claim', 'update', 'update', 'claim']);
    expect(frames[1]).toEqual(frames[0]);
    claims.destroy();
  });

  it('keeps the secrets for a reload: edits restored from IndexedDB are claimed with the same secret', () => {
    const storage = memoryStorage();
    const first = new Y.Doc();
    const firstFrames: Uint8Array[] = [];
    const before = new ClientIdClaims(first, standInProvider([], firstFrames) as unknown as WebsocketProvider, storage, 'doc-b');
    first.getText('title').insert(0, 'typed offline'); // not connected: remembered, not sent
    expect(firstFrames).toEqual([]);
    before.destroy();

    // The reload: a new Y.Doc (a new client id) gets the old content back from IndexedDB.
    const reloaded = new Y.Doc();
    const frames: Uint8Array[] = [];
    const provider = standInProvider([], frames);
    const after = new ClientIdClaims(reloaded, provider as unknown as WebsocketProvider, storage, 'doc-b');
    Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(first), 'indexeddb');
    provider.status('connected');
    expect(frames.map((f) => decodeClientClaim(f)?.clientId)).toEqual([first.clientID]);
    // Another document's storage key holds none of them.
    expect(new ClientIdClaims(new Y.Doc(), provider as unknown as WebsocketProvider, storage, 'doc-c').ids).toEqual([]);
    after.destroy();
  });

  it('never claims an id it learnt from someone else, and remembers a bounded number of its own', () => {
    const storage = memoryStorage();
    const other = new Y.Doc();
    other.getText('title').insert(0, 'theirs');
    for (let i = 0; i < REMEMBERED_IDS + 5; i++) {
      const doc = new Y.Doc();
      const frames: Uint8Array[] = [];
      const provider = standInProvider([], frames);
      const claims = new ClientIdClaims(doc, provider as unknown as WebsocketProvider, storage, 'doc-d');
      provider.status('connected');
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(other), 'remote');
      doc.getText('title').insert(0, 'mine ');
      expect(frames.map((f) => decodeClientClaim(f)?.clientId)).toEqual([doc.clientID]);
      expect(claims.ids.length).toBe(Math.min(i + 1, REMEMBERED_IDS));
      claims.destroy();
    }
  });
});
