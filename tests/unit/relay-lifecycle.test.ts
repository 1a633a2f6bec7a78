/** The relay's room lifecycle through a real server: shared loads, and unload only after save. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient } from '../support/nodeClient';

class FlakyStore extends MemoryStore {
  healthy = true;
  loads = 0;
  override async append(docId: string, updates: Uint8Array[]): Promise<number> {
    if (!this.healthy) throw new Error('disk unavailable (simulated)');
    return super.append(docId, updates);
  }
  override async load(docId: string) {
    this.loads++;
    // Slow loads make concurrent connections overlap with the first one's load.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return super.load(docId);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(store: MemoryStore): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent', relay: { unloadDelayMs: 0 } });
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
    const store = new FlakyStore();
    const server = await serve(store);
    const caps = mintDocument();
    const clients = [connect(server, caps), connect(server, caps), connect(server, caps)];
    await Promise.all(clients.map((c) => c.synced));
    expect(store.loads).toBe(1);
  });

  it('keeps a document in memory while its save fails, and unloads it once saved', async () => {
    const store = new FlakyStore();
    const server = await serve(store);
    const caps = mintDocument();
    const { docId } = caps;
    const client = connect(server, caps);
    await client.synced;
    store.healthy = false;
    client.doc.getText('t').insert(0, 'keep me');
    await vi.waitFor(() => expect(server.relay.loadedRoom(docId)?.doc.getText('t').toString()).toBe('keep me'));
    client.provider.destroy();
    await vi.waitFor(() => expect(server.relay.stats().connections).toBe(0));
    // Nobody is connected, but the change is not stored: the room must stay.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.relay.loadedRoom(docId)).toBeDefined();
    store.healthy = true;
    await vi.waitFor(() => expect(server.relay.loadedRoom(docId)).toBeUndefined(), { timeout: 15_000 });
    const check = new Y.Doc();
    for (const u of (await store.load(docId)).updates) Y.applyUpdate(check, u);
    expect(check.getText('t').toString()).toBe('keep me');
  });
});
