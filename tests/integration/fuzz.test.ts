/**
 * Hostile input changes nothing: over ten thousand malformed frames arrive on edit-capability
 * connections while two honest clients edit. The server stays up, counts every refusal, and
 * stores exactly what the honest clients converge to.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer } from '../../server/startServer';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { MessageType } from '../../lib/protocol/messageTypes';
import { fuzzFrames, seededRandom, type FuzzFrame } from '../support/fuzzFrames';
import { openRawSocket, type RawSocket } from '../support/rawSocket';
import { connectClient } from '../support/nodeClient';
import { TempDirs } from '../support/tempDirs';

const FRAMES = 11_500;
const MIN_REJECTED = 10_000;
const WORKERS = 12;

const cleanups: (() => unknown)[] = [];
const dataDirs = new TempDirs();
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dataDirs.removeAll();
});

describe('fuzzing the relay', () => {
  it('refuses malformed frames, keeps serving honest clients and stores exactly their document', { timeout: 240_000 }, async () => {
    const dataDir = dataDirs.make('concord-fuzz-');
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      next: false,
      logLevel: 'silent',
      processMetrics: true,
      // Raised so that every frame reaches the decoder instead of a connection or rate cap.
      relay: { maxConnectionsPerIp: 100_000, maxMessagesPerSecond: 100_000 },
    });
    let serverClosed = false;
    cleanups.push(() => (serverClosed ? undefined : server.close()));
    const caps = mintDocument();

    // Two honest editors typing words while the attack runs.
    const honest = [0, 1].map((n) => {
      const client = connectClient(server.wsUrl, caps.docId, caps.edit);
      cleanups.push(() => client.provider.destroy());
      return { n, doc: client.doc, provider: client.provider, synced: client.synced, words: [] as string[] };
    });
    await Promise.all(honest.map((h) => h.synced));
    const random = seededRandom(7);
    let typing = true;
    const typists = honest.map(async (h) => {
      let i = 0;
      while (typing) {
        const word = `h${h.n}w${i++} `;
        const text = h.doc.getText('t');
        // Insert at a word boundary so that no honest word is split by another.
        const content = text.toString();
        const boundaries = [0, ...[...content.matchAll(/ /g)].map((m) => m.index + 1)];
        text.insert(boundaries[Math.floor(random() * boundaries.length)]!, word);
        h.words.push(word.trim());
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    });

    // The attack: workers send frames; an accepted frame is followed by a probe so we know it was handled.
    const frames = [...fuzzFrames(FRAMES, 42)];
    let next = 0;
    let sent = 0;
    const open = async (): Promise<RawSocket> => {
      const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
      await raw.opened;
      return raw;
    };
    const worker = async () => {
      let raw = await open();
      while (next < frames.length) {
        const frame: FuzzFrame = frames[next++]!;
        const answered = raw.waitFor((f) => f[0] === MessageType.awareness);
        raw.send(frame.data);
        raw.send(new Uint8Array([MessageType.queryAwareness]));
        sent++;
        if ((await answered) === 'closed') raw = await open();
      }
      raw.ws.close();
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    typing = false;
    await Promise.all(typists);

    expect(sent).toBe(FRAMES);
    expect(server.metrics.rejectedFrames).toBeGreaterThanOrEqual(MIN_REJECTED);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const metricsText = await (await fetch(`${server.url}/metrics`)).text();
    expect(metricsText).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(metricsText).toMatch(/^concord_frames_rejected_total \d{5,}/m);

    // The honest clients converge, with every word they typed.
    const [a, b] = honest as [(typeof honest)[0], (typeof honest)[0]];
    await vi.waitFor(() => expect(a.doc.getText('t').toString()).toBe(b.doc.getText('t').toString()), { timeout: 20_000 });
    const finalText = a.doc.getText('t').toString();
    for (const h of honest) for (const word of h.words) expect(finalText).toContain(word);

    // What is stored is exactly what they have.
    for (const h of honest) h.provider.destroy();
    await server.close();
    serverClosed = true;
    const store = new SqliteStore(dataDir);
    cleanups.push(() => store.close());
    const stored = new Y.Doc();
    for (const update of (await store.load(caps.docId)).updates) Y.applyUpdate(stored, update);
    expect(stored.getText('t').toString()).toBe(finalText);
    expect(Y.encodeStateVector(stored)).toEqual(Y.encodeStateVector(a.doc));
  });
});
