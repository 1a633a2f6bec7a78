/**
 * Durability: everything the relay accepted survives a SIGKILL. All clients are destroyed before
 * the kill — a client that stayed connected would re-upload its state and hide a storage bug.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { mintDocument } from '../../lib/auth/capabilities';
import { DEFAULT_SAVER_OPTIONS } from '../../server/relay/DocumentSaver';
import { seededRandom } from '../support/fuzzFrames';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { untilStored } from '../support/storedAck';
import { TempDirs } from '../support/tempDirs';

const processes: RelayProcess[] = [];
const clients: NodeClient[] = [];
const dataDirs = new TempDirs();
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
  dataDirs.removeAll();
});

function client(relay: RelayProcess, docId: string, token: string): NodeClient {
  const c = connectClient(relay.wsUrl, docId, token);
  clients.push(c);
  return c;
}

async function start(dataDir: string, env: Record<string, string> = {}): Promise<RelayProcess> {
  const relay = await startRelayProcess(dataDir, env);
  processes.push(relay);
  return relay;
}

function paragraph(text: string): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText(text)]);
  return p;
}

/**
 * `count` edits to Y.Text `notes`, each its own transaction (so its own stored update); every
 * fourth is a pure deletion. Ends with an insert, because untilStored cannot see deletions.
 */
function typeSeparately(doc: Y.Doc, count: number, tag: string, random: () => number): void {
  const text = doc.getText('notes');
  for (let i = 0; i < count; i++) {
    if (i % 4 === 3 && text.length > 4) text.delete(Math.floor(random() * (text.length - 2)), 2);
    else text.insert(Math.floor(random() * (text.length + 1)), `${tag}${i} `);
  }
  text.insert(text.length, `${tag}. `);
}

/** The server's concord_compactions_total counter. */
async function compactions(relay: RelayProcess): Promise<number> {
  const metrics = await (await fetch(`${relay.url}/metrics`)).text();
  const value = /^concord_compactions_total (\d+)$/m.exec(metrics)?.[1];
  if (value === undefined) throw new Error('/metrics has no concord_compactions_total');
  return Number(value);
}

describe('durability', () => {
  it('keeps every stored edit across a SIGKILL with every client gone', async () => {
    const dataDir = dataDirs.make('concord-kill-');
    const caps = mintDocument();
    const first = await start(dataDir);
    const [a, b] = [client(first, caps.docId, caps.edit), client(first, caps.docId, caps.edit)];
    await Promise.all([a.synced, b.synced]);
    a.doc.getText('title').insert(0, 'Crash test');
    for (let i = 0; i < 50; i++) {
      a.doc.getXmlFragment('prosemirror').push([paragraph(`from a ${i}`)]);
      b.doc.getText('notes').insert(0, `b${i} `);
    }
    // An observer that sees every edit proves the server received them all.
    const observer = client(first, caps.docId, caps.view);
    await vi.waitFor(() => {
      expect(observer.doc.getXmlFragment('prosemirror').length).toBe(50);
      expect(observer.doc.getText('notes').toString()).toBe(b.doc.getText('notes').toString());
      expect(observer.doc.getText('title').toString()).toBe('Crash test');
    });
    const everything = Y.mergeUpdates([Y.encodeStateAsUpdate(a.doc), Y.encodeStateAsUpdate(b.doc)]);
    const expectedNotes = b.doc.getText('notes').toString();
    // Received is not stored (writes are batched for up to 50 ms): wait for the relay to say so.
    const all = new Y.Doc();
    Y.applyUpdate(all, everything);
    await untilStored(first.wsUrl, caps.docId, caps.edit, all);
    for (const c of clients.splice(0)) c.destroy();

    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    const second = await start(dataDir);
    const fresh = client(second, caps.docId, caps.view);
    await fresh.synced;
    expect(fresh.doc.getText('title').toString()).toBe('Crash test');
    expect(fresh.doc.getXmlFragment('prosemirror').length).toBe(50);
    expect(fresh.doc.getXmlFragment('prosemirror').toString()).toContain('<paragraph>from a 49</paragraph>');
    expect(fresh.doc.getText('notes').toString()).toBe(expectedNotes);
    // Nothing either client had is missing from the restarted server.
    const missing = Y.decodeUpdate(Y.diffUpdate(everything, Y.encodeStateVector(fresh.doc)));
    expect(missing.structs).toHaveLength(0);
  });

  it('shuts down cleanly on SIGTERM (exit code 0) and keeps everything', async () => {
    const dataDir = dataDirs.make('concord-term-');
    const caps = mintDocument();
    const first = await start(dataDir);
    const writer = client(first, caps.docId, caps.edit);
    await writer.synced;
    writer.doc.getText('t').insert(0, 'graceful');
    const observer = client(first, caps.docId, caps.edit);
    await vi.waitFor(() => expect(observer.doc.getText('t').toString()).toBe('graceful'));
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(first.logs.some((l) => l.msg === 'shutdown complete')).toBe(true);
    for (const c of clients.splice(0)) c.destroy();

    const second = await start(dataDir);
    const fresh = client(second, caps.docId, caps.edit);
    await fresh.synced;
    expect(fresh.doc.getText('t').toString()).toBe('graceful');
  });

  it('restores a compacted snapshot plus the log after it, deletions included, across two SIGKILLs', { timeout: 120_000 }, async () => {
    const dataDir = dataDirs.make('concord-compact-');
    const caps = mintDocument();
    // A stock provider sends one message per edit, far above the default cap of 300 a second.
    const env = { MAX_MESSAGES_PER_SECOND: '1000000' };
    const random = seededRandom(11);

    // 1. More edits than the compaction threshold, so the server writes a snapshot, then a tail
    //    of updates after it. Some updates are pure deletions: they add no structs, and a store
    //    that skipped or mis-merged them would bring deleted text back.
    const first = await start(dataDir, env);
    const writer = client(first, caps.docId, caps.edit);
    await writer.synced;
    const fragment = writer.doc.getXmlFragment('prosemirror');
    fragment.push(['kept', 'deleted', 'also kept'].map(paragraph));
    fragment.delete(1, 1);
    typeSeparately(writer.doc, DEFAULT_SAVER_OPTIONS.compactAfterUpdates + 200, 'a', random);
    await untilStored(first.wsUrl, caps.docId, caps.edit, writer.doc);
    // The test is about snapshot + tail: make sure a snapshot was really written.
    await vi.waitFor(async () => expect(await compactions(first)).toBeGreaterThan(0));
    typeSeparately(writer.doc, 100, 'b', random);
    await untilStored(first.wsUrl, caps.docId, caps.edit, writer.doc);
    let expectedNotes = writer.doc.getText('notes').toString();
    const expectedFragment = fragment.toString();
    expect(expectedFragment).toBe('<paragraph>kept</paragraph><paragraph>also kept</paragraph>');
    for (const c of clients.splice(0)) c.destroy();
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    // 2. Restart: the document loads from snapshot + tail. Edit past the threshold again, so the
    //    loaded log is compacted into a new snapshot with a new tail. Then crash again.
    const second = await start(dataDir, env);
    const reader = client(second, caps.docId, caps.edit);
    await reader.synced;
    expect(reader.doc.getText('notes').toString()).toBe(expectedNotes);
    expect(reader.doc.getXmlFragment('prosemirror').toString()).toBe(expectedFragment);
    typeSeparately(reader.doc, DEFAULT_SAVER_OPTIONS.compactAfterUpdates, 'c', random);
    await untilStored(second.wsUrl, caps.docId, caps.edit, reader.doc);
    await vi.waitFor(async () => expect(await compactions(second)).toBeGreaterThan(0));
    expectedNotes = reader.doc.getText('notes').toString();
    for (const c of clients.splice(0)) c.destroy();
    expect((await second.stop('SIGKILL')).signal).toBe('SIGKILL');

    // 3. A brand-new client on a third process sees exactly the text of every phase.
    const third = await start(dataDir, env);
    const fresh = client(third, caps.docId, caps.view);
    await fresh.synced;
    expect(fresh.doc.getText('notes').toString()).toBe(expectedNotes);
    expect(fresh.doc.getXmlFragment('prosemirror').toString()).toBe(expectedFragment);
  });

  it('refuses to start with a clear message on bad configuration', async () => {
    const dataDir = dataDirs.make('concord-badcfg-');
    await expect(startRelayProcess(dataDir, { PORT: 'not-a-port' })).rejects.toThrow(/PORT="not-a-port": must be a whole number/);
  });
});
