/**
 * Shutdown never hangs (issue #11): Relay.close waits for storage at most shutdownGraceMs, then
 * reports and logs the documents it could not store. With healthy storage everything is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../server/startServer';
import type { ShutdownReport } from '../../server/relay/Relay';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient } from '../support/nodeClient';
import { GatedStore } from '../support/gatedStore';
import { MemoryStore } from '../../server/storage/MemoryStore';

/** Stays readable after the server closes it, so the test can check what was stored. */
class KeptOpenStore extends MemoryStore {
  override async close(): Promise<void> {}
}

const GRACE_MS = 300;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(store: GatedStore) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logger, relay: { shutdownGraceMs: GRACE_MS } });
  cleanups.push(() => server.close());
  return { server, lines };
}

/** Two documents, each with one stored edit and one that reaches the relay while `failStorage` is in effect. */
async function editTwoDocuments(server: RunningServer, store: GatedStore, failStorage: () => void) {
  const docs = [mintDocument(), mintDocument()];
  const clients = docs.map((caps) => connectClient(server.wsUrl, caps.docId, caps.edit));
  cleanups.push(() => clients.forEach((c) => c.destroy()));
  await Promise.all(clients.map((c) => c.synced));
  failStorage();
  const attempted = store.appends.next(2);
  clients.forEach((c, i) => c.doc.getText('t').insert(0, `unsaved ${i}`));
  await attempted; // both rooms have tried to store their edit
  return docs.map((caps) => caps.docId).sort();
}

/** close() must settle on its own; this deadline only turns a hang into a failure message. */
function withDeadline(closing: Promise<ShutdownReport>, ms: number): Promise<ShutdownReport> {
  return Promise.race([
    closing,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`close() still running after ${ms} ms`)), ms).unref()),
  ]);
}

describe('Relay.close', () => {
  it.each([
    ['fails every write', (store: GatedStore) => (store.appends.failure = new Error('disk unavailable (simulated)'))],
    ['never answers', (store: GatedStore) => store.appends.gate.hold()],
  ])('gives up after the grace period when storage %s, naming the unstored documents', async (_what, breakStorage) => {
    const store = new GatedStore();
    const { server, lines } = await serve(store);
    const docIds = await editTwoDocuments(server, store, () => breakStorage(store));
    const started = performance.now();
    const report = await withDeadline(server.close(), 10_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(GRACE_MS - 5);
    expect(report.unstoredDocIds.slice().sort()).toEqual(docIds);
    const logged = lines.find((l) => Array.isArray(l.docIds));
    expect(logged).toMatchObject({ level: 50, graceMs: GRACE_MS });
    expect((logged!.docIds as string[]).slice().sort()).toEqual(docIds);
  });

  it('stores everything and reports nothing when storage works (the control)', async () => {
    const store = new GatedStore(new KeptOpenStore());
    const { server, lines } = await serve(store);
    const docIds = await editTwoDocuments(server, store, () => store.appends.gate.hold());
    const closing = server.close();
    store.appends.gate.release(); // storage answers, late but within the grace period
    expect(await withDeadline(closing, 10_000)).toEqual({ unstoredDocIds: [] });
    expect(lines).toEqual([]);
    for (const docId of docIds) {
      const doc = new Y.Doc();
      for (const update of (await store.inner.load(docId)).updates) Y.applyUpdate(doc, update);
      expect(doc.getText('t').toString()).toMatch(/^unsaved \d$/);
    }
  });

  // Bounded by the test's own timeout: without the grace period ws waits 30 s for the close frame.
  it('does not wait for a client that never answers its close frame', { timeout: 20_000 }, async () => {
    const store = new GatedStore(new KeptOpenStore());
    const { server } = await serve(store);
    const caps = mintDocument();
    const silent = connectClient(server.wsUrl, caps.docId, caps.edit);
    cleanups.push(() => silent.destroy());
    await silent.synced;
    silent.doc.getText('t').insert(0, 'stored before it went silent');
    await store.appends.next(1);
    // Gone without a reset: the socket stays open, but nothing it receives is read any more.
    (silent.provider.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const report = await server.close();
    expect(report.unstoredDocIds).toEqual([]);
    const stored = new Y.Doc();
    for (const update of (await store.load(caps.docId)).updates) Y.applyUpdate(stored, update);
    expect(stored.getText('t').toString()).toBe('stored before it went silent');
  });
});
