/**
 * Durability: everything the relay accepted survives a SIGKILL. All clients are destroyed before
 * the kill — a client that stayed connected would re-upload its state and hide a storage bug.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';

const processes: RelayProcess[] = [];
const clients: NodeClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of processes.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

function client(relay: RelayProcess, docId: string, token: string): NodeClient {
  const c = connectClient(relay.wsUrl, docId, token);
  clients.push(c);
  return c;
}

async function start(dataDir: string): Promise<RelayProcess> {
  const relay = await startRelayProcess(dataDir);
  processes.push(relay);
  return relay;
}

function paragraph(text: string): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText(text)]);
  return p;
}

describe('durability', () => {
  it('keeps every stored edit across a SIGKILL with every client gone', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-kill-'));
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
    for (const c of clients.splice(0)) c.destroy();

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

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
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-term-'));
    const caps = mintDocument();
    const first = await start(dataDir);
    const writer = client(first, caps.docId, caps.edit);
    await writer.synced;
    writer.doc.getText('t').insert(0, 'graceful');
    const observer = client(first, caps.docId, caps.edit);
    await vi.waitFor(() => expect(observer.doc.getText('t').toString()).toBe('graceful'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.logs.some((l) => l.msg === 'shutdown complete')).toBe(true);
    for (const c of clients.splice(0)) c.destroy();

    const second = await start(dataDir);
    const fresh = client(second, caps.docId, caps.edit);
    await fresh.synced;
    expect(fresh.doc.getText('t').toString()).toBe('graceful');
  });

  it('refuses to start with a clear message on bad configuration', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-badcfg-'));
    await expect(startRelayProcess(dataDir, { PORT: 'not-a-port' })).rejects.toThrow(/PORT="not-a-port": must be a whole number/);
  });
});
