/**
 * A real two-author editing trace through the relay: author 0's transactions go through one
 * client and author 1's through another, at the same time. Both clients and a late joiner must
 * end at exactly the recorded text.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { TempDirs } from '../support/tempDirs';
import { concurrentUpdates, loadTrace, type ConcurrentTrace } from '../support/traces';

let server: RunningServer | undefined;
const clients: NodeClient[] = [];
const dataDirs = new TempDirs();
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  dataDirs.removeAll();
});

function clockOf(doc: Y.Doc, client: number): number {
  return Y.decodeStateVector(Y.encodeStateVector(doc)).get(client) ?? 0;
}

/** Resolves once `doc` holds `clock` of `client`'s structs (delivered by the relay). */
function untilClock(doc: Y.Doc, client: number, clock: number): Promise<void> {
  if (clockOf(doc, client) >= clock) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (clockOf(doc, client) < clock) return;
      doc.off('update', check);
      resolve();
    };
    doc.on('update', check);
  });
}

describe('real concurrent trace', () => {
  it('two clients replaying friendsforever concurrently and a late joiner all end at endContent', { timeout: 180_000 }, async () => {
    const trace = loadTrace<ConcurrentTrace>('friendsforever');
    const updates = concurrentUpdates(trace, 'trace');

    // For each update, how much of the other author's work it builds on: a client sends an
    // update only once the relay has delivered that much, so every send is causally complete.
    const reference = new Y.Doc();
    const plan = updates.map(({ agent, update }) => {
      const other = agent === 0 ? 2 : 1; // client IDs are author + 1
      const needs = clockOf(reference, other);
      Y.applyUpdate(reference, update);
      return { agent, update, other, needs };
    });
    expect(reference.getText('trace').toString()).toBe(trace.endContent);

    const dataDir = dataDirs.make('concord-trace-');
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      next: false,
      logLevel: 'silent',
      relay: { maxMessagesPerSecond: 1_000_000 }, // a replay sends far faster than anyone types
    });
    const caps = mintDocument();
    const authors = [0, 1].map(() => connectClient(server!.wsUrl, caps.docId, caps.edit));
    clients.push(...authors);
    await Promise.all(authors.map((a) => a.synced));

    await Promise.all(
      authors.map(async (client, agent) => {
        let sent = 0;
        for (const step of plan) {
          if (step.agent !== agent) continue;
          await untilClock(client.doc, step.other, step.needs);
          Y.applyUpdate(client.doc, step.update);
          // Yield now and then so both authors' messages really are in flight together.
          if (++sent % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );

    for (const author of authors) {
      await vi.waitFor(() => expect(author.doc.getText('trace').toString()).toBe(trace.endContent), { timeout: 60_000 });
    }
    const late = connectClient(server.wsUrl, caps.docId, caps.view);
    clients.push(late);
    await late.synced;
    expect(late.doc.getText('trace').toString()).toBe(trace.endContent);
  });
});
