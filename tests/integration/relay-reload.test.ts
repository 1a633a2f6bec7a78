/**
 * The corruption reload (issue #11 item 8, issue #15 item 1): a change that fails half-way leaves
 * nothing behind. Its connections close with 4503, the clients reconnect on their own to a copy
 * loaded from storage, and every replica — both clients, the relay, storage — ends identical,
 * without the failed change.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { connectClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('reload after a failed change', () => {
  it('closes the document\'s connections with 4503, and the clients come back to what storage holds', async () => {
    const store = new MemoryStore();
    const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent' });
    cleanups.push(() => server.close());
    const caps = mintDocument();

    // Client 5's history: title "ab", a heading, its level attribute.
    const writer = new Y.Doc();
    writer.clientID = 5;
    writer.getText('title').insert(0, 'ab');
    const heading = new Y.XmlElement('heading');
    writer.getXmlFragment('prosemirror').insert(0, [heading]);
    heading.setAttribute('level', '1' as never);

    const a = connectClient(server.wsUrl, caps.docId, caps.edit);
    const b = connectClient(server.wsUrl, caps.docId, caps.edit);
    cleanups.push(() => a.destroy(), () => b.destroy());
    await Promise.all([a.synced, b.synced]);
    // The attacker's connection writes client 5's history (so it is client 5's writer), then
    // a honest client edits after it.
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    await raw.opened;
    raw.send(encodeUpdateMessage(Y.encodeStateAsUpdate(writer)));
    await vi.waitFor(() => expect(a.doc.getText('title').toString()).toBe('ab'));
    a.doc.getText('title').insert(2, ' and more');
    await vi.waitFor(() => expect(b.doc.getText('title').toString()).toBe('ab and more'));
    const closes: number[] = [];
    b.provider.on('connection-close', (event: CloseEvent | null) => {
      if (event) closes.push(event.code);
    });

    // An attacker replays client 5's history one clock longer, as one string in the title: Yjs
    // would skip the known clocks and anchor the rest on the heading's attribute.
    const forger = new Y.Doc();
    forger.clientID = 5;
    forger.getText('title').insert(0, 'wxyzq');
    raw.send(encodeUpdateMessage(Y.encodeStateAsUpdate(forger)));
    // Everyone on the document is sent away to reload, the sender too.
    expect((await raw.closed).code).toBe(CloseCode.documentUnavailable);

    // The honest clients were told to come back, and did, on their own.
    await vi.waitFor(() => expect(closes).toContain(CloseCode.documentUnavailable));
    await vi.waitFor(() => expect(b.provider.synced && b.provider.wsconnected).toBe(true));
    b.doc.getText('title').insert(0, '> ');
    await vi.waitFor(() => expect(a.doc.getText('title').toString()).toBe('> ab and more'), { timeout: 15_000 });

    const room = server.relay.loadedRoom(caps.docId)!;
    const stored = new Y.Doc();
    await vi.waitFor(async () => {
      const fresh = new Y.Doc();
      for (const u of (await store.load(caps.docId)).updates) Y.applyUpdate(fresh, u);
      expect(fresh.getText('title').toString()).toBe('> ab and more');
      Y.applyUpdate(stored, Y.encodeStateAsUpdate(fresh));
    });
    for (const replica of [a.doc, b.doc, room.doc]) {
      expect(replica.getText('title').toString()).toBe('> ab and more');
      expect(replica.getXmlFragment('prosemirror').toString()).toBe(stored.getXmlFragment('prosemirror').toString());
      expect(Y.encodeStateVector(replica)).toEqual(Y.encodeStateVector(stored));
    }
    expect(room.doc.getXmlFragment('prosemirror').toString()).toBe('<heading level="1"></heading>');
    expect(server.metrics.integrityCounts.changesFailed).toBe(1);
  });
});
