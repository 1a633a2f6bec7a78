/** The relay's room lifecycle through a real server: shared loads, and unload only after save. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { DEFAULT_SAVER_OPTIONS } from '../../server/relay/DocumentSaver';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient } from '../support/nodeClient';
import { GatedStore } from '../support/gatedStore';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(store: GatedStore): Promise<RunningServer> {
  // Quick retries, so a failing store is retried several times within a test.
  const saver = { ...DEFAULT_SAVER_OPTIONS, retryDelayMs: 5, maxRetryDelayMs: 20 };
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent', relay: { unloadDelayMs: 0, saver } });
  cleanups.push(() => server.close());
  return server;
}

function connect(server: RunningServer, caps: { docId: string; edit: string }) {
  const client = connectClient(server.wsUrl, caps.docId, caps.edit);
  cleanups.push(() => client.provider.destroy());
  return client;
}

describe('relay room lifecycle', () => {
  it('shares one load between connections that arrive together', async () => {
    const store = new GatedStore();
    store.loads.gate.hold();
    const server = await serve(store);
    const caps = mintDocument();
    const firstLoad = store.loads.next();
    const clients = [connect(server, caps), connect(server, caps), connect(server, caps)];
    await firstLoad;
    // All three passed the door (which asks for the room right after reading the access state)
    // while the first load is held: each of them asked for the room during that load.
    await vi.waitFor(() => expect(store.documentLookups).toBe(3));
    store.loads.gate.release();
    await Promise.all(clients.map((c) => c.synced));
    expect(store.loads.started).toBe(1);
  });

  it('keeps a document in memory while its save fails, and unloads it once saved', async () => {
    const store = new GatedStore();
    const server = await serve(store);
    const caps = mintDocument();
    const { docId } = caps;
    const client = connect(server, caps);
    await client.synced;
    store.appends.failure = new Error('disk unavailable (simulated)');
    client.doc.getText('t').insert(0, 'keep me');
    await vi.waitFor(() => expect(server.relay.loadedRoom(docId)?.doc.getText('t').toString()).toBe('keep me'));
    client.provider.destroy();
    await vi.waitFor(() => expect(server.relay.stats().connections).toBe(0));
    // Nobody is connected, so the room's unload timer (0 ms) fires before the next two retries,
    // which are at least one retry delay apart; but the change is not stored: the room must stay.
    const triedBefore = store.appends.started;
    await vi.waitFor(() => expect(store.appends.started).toBeGreaterThanOrEqual(triedBefore + 2), { timeout: 5_000 });
    expect(server.relay.loadedRoom(docId)).toBeDefined();
    store.appends.failure = null;
    await vi.waitFor(() => expect(server.relay.loadedRoom(docId)).toBeUndefined(), { timeout: 15_000 });
    const check = new Y.Doc();
    for (const u of (await store.load(docId)).updates) Y.applyUpdate(check, u);
    expect(check.getText('t').toString()).toBe('keep me');
  });
});
