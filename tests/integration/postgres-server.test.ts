/**
 * A server with DATABASE_URL stores in PostgreSQL (issue #13): /healthz says so, and what a client
 * typed (compacted along the way) is there for a new client after the server restarted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintDocument } from '../../lib/auth/capabilities';
import { DEFAULT_SAVER_OPTIONS } from '../../server/relay/DocumentSaver';
import { startServer, type RunningServer } from '../../server/startServer';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { createTestDatabase, type TestDatabase } from '../support/postgresTestDatabase';
import { untilStored } from '../support/storedAck';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(database: TestDatabase): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    databaseUrl: database.url,
    next: false,
    logLevel: 'silent',
    relay: { saver: { ...DEFAULT_SAVER_OPTIONS, compactAfterUpdates: 5 } },
  });
  cleanups.push(() => server.close());
  return server;
}

function client(server: RunningServer, docId: string, token: string): NodeClient {
  const c = connectClient(server.wsUrl, docId, token);
  cleanups.push(() => c.destroy());
  return c;
}

describe('server on PostgreSQL', () => {
  it('reports postgres in /healthz and keeps a compacted document across a restart', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const first = await serve(database);
    const health = await (await fetch(`${first.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', storage: { kind: 'postgres', status: 'ok' } });

    const caps = mintDocument();
    const writer = client(first, caps.docId, caps.edit);
    await writer.synced;
    const text = writer.doc.getText('t');
    for (const word of ['one ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight']) {
      text.insert(text.length, word);
      await untilStored(first.wsUrl, caps.docId, caps.edit, writer.doc); // one stored batch each: compaction runs
    }
    const stored = await first.store.load(caps.docId);
    expect(stored.updates.length).toBeLessThan(8); // compacted into a snapshot
    writer.destroy();
    await first.close();

    const second = await serve(database);
    const reader = client(second, caps.docId, caps.view);
    await reader.synced;
    await vi.waitFor(() => expect(reader.doc.getText('t').toString()).toBe('one two three four five six seven eight'));
  });
});
