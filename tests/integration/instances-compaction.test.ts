/**
 * Compaction with several instances on one storage (issue #13): an instance compacts its
 * document into a snapshot, but another instance may have appended entries it never received
 * (the bus dropped them, and it has not read storage since). The snapshot must not replace them:
 * compaction goes only as far as the entries known to be in the document (compactableThrough).
 * Only one instance compacts a document at a time (a lease in Redis), which saves work and
 * nothing more. Servers in one process on one storage (SQLite directory or PostgreSQL database),
 * a private Redis.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { mintDocument } from '../../lib/auth/capabilities';
import { DEFAULT_SAVER_OPTIONS } from '../../server/relay/DocumentSaver';
import { startServer, type RunningServer } from '../../server/startServer';
import type { DocumentStore } from '../../server/storage/DocumentStore';
import { PostgresStore } from '../../server/storage/PostgresStore';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { createTestDatabase } from '../support/postgresTestDatabase';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { Redis } from 'ioredis';
import { startRedisServer } from '../support/redisServer';
import { untilStored } from '../support/storedAck';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function counter(server: RunningServer, name: string): Promise<number> {
  return (await server.metrics.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
}

const compactions = (server: RunningServer) => counter(server, 'concord_compactions_total');

function seedDoc(): Y.Doc {
  const seed = new Y.Doc();
  seed.getText('t').insert(0, 'seed ');
  return seed;
}

/** Opens stores on one shared storage of the given kind. */
async function sharedStorage(kind: 'sqlite' | 'postgres'): Promise<() => DocumentStore> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-instances-compact-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return () => new SqliteStore(dir);
  }
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return () => new PostgresStore(database.url, { maxConnections: 4 });
}

/** A private Redis, shared storage of `kind`, and a document with something stored before any load. */
async function seededSetup(kind: 'sqlite' | 'postgres') {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const openStore = await sharedStorage(kind);
  const caps = mintDocument();
  const seeding = openStore();
  await seeding.append(caps.docId, [Y.encodeStateAsUpdate(seedDoc())]);
  await seeding.close();
  return { redis, openStore, caps };
}

describe.each(['sqlite', 'postgres'] as const)('compaction with several instances on %s', (kind) => {
  it('an instance never compacts away entries another instance appended that it has not seen', async () => {
    // Something stored before either instance loads the document.
    const { redis, openStore, caps } = await seededSetup(kind);

    const [a, b] = await Promise.all(['a', 'b'].map((instanceId) => startServer({
      port: 0,
      host: '127.0.0.1',
      store: openStore(),
      logLevel: 'silent',
      // Storage is read only at load here, so what B knows of A's entries stays what it loaded.
      instances: { redisUrl: redis.url, instanceId, reconcileIntervalMs: 3_600_000 },
      relay: { saver: { ...DEFAULT_SAVER_OPTIONS, compactAfterUpdates: 10, writeDelayMs: 0 } },
    })));
    cleanups.push(() => a!.close(), () => b!.close());
    const client = (server: RunningServer): NodeClient => {
      const c = connectClient(server.wsUrl, caps.docId, caps.edit);
      cleanups.push(() => c.destroy());
      return c;
    };
    const [onA, onB] = [client(a!), client(b!)];
    await Promise.all([onA.synced, onB.synced]);

    // The bus goes down: nothing A's client writes reaches B, except through storage.
    await redis.kill();
    await vi.waitFor(() => expect([a!.instances!.status().state, b!.instances!.status().state]).toEqual(['down', 'down']));
    for (let i = 0; i < 5; i++) onA.doc.getText('t').insert(0, `a${i} `);
    await untilStored(a!.wsUrl, caps.docId, caps.edit, onA.doc);
    expect(onB.doc.getText('t').toString()).not.toContain('a0');

    // B's client writes enough for B to compact a snapshot of its copy, which lacks A's entries.
    for (let i = 0; i < 15; i++) onB.doc.getText('t').insert(0, `b${i} `);
    await vi.waitFor(async () => expect(await compactions(b!)).toBeGreaterThan(0));
    await untilStored(b!.wsUrl, caps.docId, caps.edit, onB.doc);

    const check = openStore();
    cleanups.push(() => check.close());
    const stored = new Y.Doc();
    for (const update of (await check.load(caps.docId)).updates) Y.applyUpdate(stored, update);
    const text = stored.getText('t').toString();
    for (let i = 0; i < 5; i++) expect(text).toContain(`a${i} `);
    for (let i = 0; i < 15; i++) expect(text).toContain(`b${i} `);
    expect(text).toContain('seed');
  }, 30_000);

  it('leaves a compaction to the instance holding the document\'s lease', async () => {
    // Stored before the load, so this instance may compact through it from the start.
    const { redis, openStore, caps } = await seededSetup(kind);
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      store: openStore(),
      logLevel: 'silent',
      instances: { redisUrl: redis.url, instanceId: 'a' },
      relay: { saver: { ...DEFAULT_SAVER_OPTIONS, compactAfterUpdates: 10, writeDelayMs: 0 } },
    });
    cleanups.push(() => server.close());
    const writer = connectClient(server.wsUrl, caps.docId, caps.edit);
    cleanups.push(() => writer.destroy());
    await writer.synced;
    // Another instance is compacting this document.
    const other = new Redis(redis.url);
    cleanups.push(() => other.disconnect());
    expect(await other.set(`concord:compacting:${caps.docId}`, 'another instance', 'PX', 60_000, 'NX')).toBe('OK');
    for (let i = 0; i < 15; i++) writer.doc.getText('t').insert(0, `w${i} `);
    await untilStored(server.wsUrl, caps.docId, caps.edit, writer.doc);
    // Past the threshold it asked for the lease, was refused and skipped (until ten more updates).
    await vi.waitFor(async () => expect(await counter(server, 'concord_compactions_skipped_total')).toBeGreaterThan(0));
    expect(await compactions(server)).toBe(0);
    // It let go: once the threshold is reached again (and storage was read through what this
    // instance may compact, within a second), this instance compacts.
    await other.del(`concord:compacting:${caps.docId}`);
    let more = 0;
    await vi.waitFor(async () => {
      writer.doc.getText('t').insert(0, `x${more++} `);
      expect(await compactions(server)).toBeGreaterThan(0);
    }, { timeout: 10_000, interval: 50 });
    expect(await other.exists(`concord:compacting:${caps.docId}`)).toBe(0); // and let go after
  }, 30_000);
});
