/**
 * While the bus is up, an instance reads storage only now and then (healthyReconcileIntervalMs):
 * a lost message must show itself instead. Lost on the subscriber's side, the bus coming back
 * says so; lost on the publisher's side, the next message of its sender shows a gap. When the
 * lost message was the sender's last on a document, its publisher coming back sends one more
 * on every document, so the gap shows at once. When the bus comes back after the subscriber was
 * down, storage is read at once and again shortly after, for what was published meanwhile but
 * stored after the first read. Two servers in this process on one SQLite directory, a private
 * Redis; here the timer read is an hour apart, so only these can bring the lost edit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { startServer, type RunningServer } from '../../server/startServer';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRedisServer } from '../support/redisServer';
import { untilStored } from '../support/storedAck';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const HOUR = 3_600_000;

/** Counts its reads of storage since a sequence number (InstanceSync's reads of what others stored). */
class CountingStore extends SqliteStore {
  readsSince = 0;

  override async loadSince(docId: string, afterSeq: number) {
    this.readsSince++;
    return super.loadSince(docId, afterSeq);
  }
}

/** Holds its appends while `held` is set (a sender that stores a change a while after publishing it). */
class HeldStore extends CountingStore {
  held: Promise<void> | null = null;
  appendsStarted = 0;

  override async append(...args: Parameters<SqliteStore['append']>) {
    this.appendsStarted++;
    if (this.held) await this.held;
    return super.append(...args);
  }
}

/** Redis client ids of the publishing connections (ioredis connectionName concord-publisher). */
async function publisherIds(admin: Redis): Promise<string[]> {
  return connectionIds(admin, 'normal', 'concord-publisher');
}

async function connectionIds(admin: Redis, type: 'normal' | 'pubsub', name: string): Promise<string[]> {
  const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', type));
  return list.split('\n').filter((line) => line.includes(`name=${name}`)).map((line) => /\bid=(\d+)/.exec(line)![1]!);
}

/** One document with a client on each server and an edit that crossed live between them. */
async function liveDocument(a: RunningServer, b: RunningServer): Promise<{ caps: DocumentCapabilities; onA: NodeClient; onB: NodeClient }> {
  const caps = mintDocument();
  const client = (server: RunningServer): NodeClient => {
    const c = connectClient(server.wsUrl, caps.docId, caps.edit);
    cleanups.push(() => c.destroy());
    return c;
  };
  const [onA, onB] = [client(a), client(b)];
  await Promise.all([onA.synced, onB.synced]);
  onA.doc.getText('t').insert(0, 'live ');
  await vi.waitFor(() => expect(onB.doc.getText('t').toString()).toBe('live '));
  return { caps, onA, onB };
}

describe('a lost last message between instances', () => {
  it('is read from storage as soon as its sender\'s publisher is back, not at the next timer read', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-instances-last-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const admin = new Redis(redis.url);
    cleanups.push(() => admin.disconnect());
    const start = async (instanceId: string, store = new CountingStore(dir)) => {
      const server = await startServer({
        port: 0,
        host: '127.0.0.1',
        store,
        logLevel: 'silent',
        instances: { redisUrl: redis.url, instanceId, reconcileIntervalMs: 200, healthyReconcileIntervalMs: HOUR },
      });
      cleanups.push(() => server.close());
      await vi.waitFor(() => expect(server.instances!.status().state).toBe('up'));
      return server;
    };
    // A first, so its publisher is the one connection of that name until B starts.
    const a: RunningServer = await start('a');
    const [publisherOfA] = await publisherIds(admin);
    const storeOfB = new CountingStore(dir);
    const b = await start('b', storeOfB);
    expect(await publisherIds(admin)).toHaveLength(2);

    const { caps, onA, onB } = await liveDocument(a, b);
    // B read storage right after its load and once more a moment later; nothing more until an hour.
    await vi.waitFor(() => expect(storeOfB.readsSince).toBe(2));

    // A's publisher is cut and kept from coming back (a password it does not have); B's stays up.
    await admin.config('SET', 'requirepass', 'not-the-instances');
    cleanups.push(() => admin.config('SET', 'requirepass', ''));
    expect(Number(await admin.call('CLIENT', 'KILL', 'ID', publisherOfA!))).toBe(1);
    await vi.waitFor(() => expect(a.instances!.status().state).toBe('down'));
    expect(b.instances!.status().state).toBe('up');
    // A's last edit of the document: stored, never published.
    onA.doc.getText('t').insert(0, 'lost ');
    await untilStored(a.wsUrl, caps.docId, caps.edit, onA.doc);

    await admin.config('SET', 'requirepass', '');
    await vi.waitFor(() => expect(a.instances!.status().state).toBe('up'), { timeout: 10_000 });
    await vi.waitFor(() => expect(onB.doc.getText('t').toString()).toBe('lost live '), { timeout: 10_000 });
    expect(storeOfB.readsSince).toBeGreaterThan(2);
    expect(b.instances!.status().gapsDetected).toBeGreaterThan(0);
  }, 40_000);

  it('is read from storage again shortly after the bus comes back, for what its sender stored only after the first read', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-instances-last-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const admin = new Redis(redis.url);
    cleanups.push(() => admin.disconnect());
    const start = async (instanceId: string, store: CountingStore) => {
      const server = await startServer({
        port: 0,
        host: '127.0.0.1',
        store,
        logLevel: 'silent',
        // No timer reads at all (not even while the bus is down): only the bus coming back reads storage.
        instances: { redisUrl: redis.url, instanceId, reconcileIntervalMs: HOUR, healthyReconcileIntervalMs: HOUR },
      });
      cleanups.push(() => server.close());
      await vi.waitFor(() => expect(server.instances!.status().state).toBe('up'));
      return server;
    };
    const storeOfA = new HeldStore(dir);
    const a = await start('a', storeOfA);
    const subscribersBeforeB = await connectionIds(admin, 'pubsub', 'concord-subscriber');
    const storeOfB = new CountingStore(dir);
    const b = await start('b', storeOfB);
    const subscriberOfB = (await connectionIds(admin, 'pubsub', 'concord-subscriber')).find((id) => !subscribersBeforeB.includes(id));

    const { caps, onA, onB } = await liveDocument(a, b);
    await vi.waitFor(() => expect(storeOfB.readsSince).toBe(2));

    // B's subscriber is cut and kept away; A publishes an edit B never receives, and stores it late.
    await admin.config('SET', 'requirepass', 'not-the-instances');
    cleanups.push(() => admin.config('SET', 'requirepass', ''));
    expect(Number(await admin.call('CLIENT', 'KILL', 'ID', subscriberOfB!))).toBe(1);
    await vi.waitFor(() => expect(b.instances!.status().state).toBe('down'));
    let release = () => {};
    storeOfA.held = new Promise((resolve) => (release = resolve));
    const appendsBefore = storeOfA.appendsStarted;
    onA.doc.getText('t').insert(0, 'late ');
    await vi.waitFor(() => expect(storeOfA.appendsStarted).toBeGreaterThan(appendsBefore));

    // B comes back and reads storage (which lacks the edit yet); then A stores it.
    const readsBefore = storeOfB.readsSince;
    await admin.config('SET', 'requirepass', '');
    await vi.waitFor(() => expect(storeOfB.readsSince).toBeGreaterThan(readsBefore), { timeout: 10_000, interval: 5 });
    expect(onB.doc.getText('t').toString()).toBe('live ');
    storeOfA.held = null;
    release();
    await untilStored(a.wsUrl, caps.docId, caps.edit, onA.doc);
    await vi.waitFor(() => expect(onB.doc.getText('t').toString()).toBe('late live '), { timeout: 10_000 });
  }, 40_000);
});
