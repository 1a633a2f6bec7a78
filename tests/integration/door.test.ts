/**
 * Checked at the door: every refusal happens before any document data is sent, with the right
 * HTTP status or close code; each cap triggers with its code.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import type { DocumentStore } from '../../server/storage/DocumentStore';
import type { RelayOptions } from '../../server/relay/Relay';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { openRawSocket } from '../support/rawSocket';
import { connectClient } from '../support/nodeClient';
import { GatedStore } from '../support/gatedStore';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(relay: Partial<RelayOptions> = {}, store: DocumentStore = new MemoryStore()): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent', relay });
  cleanups.push(() => server.close());
  return server;
}

function socket(server: RunningServer, docId: string, token?: string) {
  const raw = openRawSocket(`${server.wsUrl}/${docId}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`);
  cleanups.push(() => raw.ws.terminate());
  return raw;
}

function editor(server: RunningServer, caps: DocumentCapabilities, token = caps.edit) {
  const client = connectClient(server.wsUrl, caps.docId, token);
  cleanups.push(() => client.provider.destroy());
  return client;
}

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

async function api(server: RunningServer, path: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
  return fetch(`${server.url}${path}`, { ...init, headers });
}

describe('the door', () => {
  it('refuses a missing, wrong or malformed capability with a close code and no document data', async () => {
    const server = await serve();
    const caps = mintDocument();
    const other = mintDocument();
    const cases: [string | undefined, number][] = [
      [undefined, CloseCode.missingCapability],
      [other.edit, CloseCode.forbidden],
      ['not-a-token', CloseCode.forbidden],
      ['x'.repeat(10_000), CloseCode.forbidden],
    ];
    for (const [token, code] of cases) {
      const raw = socket(server, caps.docId, token);
      const closed = await raw.closed;
      expect(closed.code).toBe(code);
      expect(raw.received).toHaveLength(0);
    }
  });

  it('refuses malformed document IDs at the upgrade with HTTP 400', async () => {
    const server = await serve();
    const { edit } = mintDocument();
    for (const id of ['..%2F..%2Fetc%2Fpasswd', 'a'.repeat(10_000), '', '%E2%9C%93'.repeat(22), 'abc%']) {
      const raw = openRawSocket(`${server.wsUrl}/${id}?token=${edit}`);
      const closed = await raw.closed;
      expect(closed.httpStatus, id.slice(0, 30)).toBe(400);
    }
    // A literal ../ is resolved by the client before it leaves; it lands outside /ws/ and is refused.
    const traversal = openRawSocket(`${server.wsUrl}/../../etc/passwd?token=${edit}`);
    expect((await traversal.closed).httpStatus).toBe(404);
  });

  it('lets a view link read and watch, and refuses its changes', async () => {
    const server = await serve();
    const caps = mintDocument();
    const writer = editor(server, caps);
    await writer.synced;
    writer.doc.getText('t').insert(0, 'hello');
    const viewer = editor(server, caps, caps.view);
    await viewer.synced;
    await vi.waitFor(() => expect(viewer.doc.getText('t').toString()).toBe('hello'));
    const raw = socket(server, caps.docId, caps.view);
    await raw.opened;
    raw.send(encodeUpdateMessage(textUpdate('vandalism')));
    await vi.waitFor(() => expect(raw.received.some((f) => f[0] === MessageType.auth)).toBe(true));
    writer.doc.getText('t').insert(5, ' world');
    await vi.waitFor(() => expect(viewer.doc.getText('t').toString()).toBe('hello world'));
    expect(writer.doc.getText('t').toString()).toBe('hello world');
    expect(server.relay.loadedRoom(caps.docId)?.doc.getText('t').toString()).toBe('hello world');
  });

  it('closes connections of rotated links and refuses them afterwards', async () => {
    const server = await serve();
    const caps = mintDocument();
    const oldEditor = socket(server, caps.docId, caps.edit);
    await oldEditor.opened;
    const viewer = socket(server, caps.docId, caps.view);
    await viewer.opened;
    const rotated = await api(server, `/api/docs/${caps.docId}/rotate`, {
      method: 'POST',
      token: caps.owner,
      body: JSON.stringify({ edit: true }),
    });
    expect(rotated.status).toBe(200);
    const links = (await rotated.json()) as { editUrl: string; viewUrl: string };
    expect((await oldEditor.closed).code).toBe(CloseCode.forbidden);
    expect((await socket(server, caps.docId, caps.edit).closed).code).toBe(CloseCode.forbidden);
    const newEdit = new URL(links.editUrl).hash.replace('#token=', '');
    expect(newEdit).not.toBe(caps.edit);
    const fresh = editor(server, caps, newEdit);
    await fresh.synced;
    expect(viewer.ws.readyState).toBe(WebSocket.OPEN); // the view link was not rotated
    // Only the owner may rotate.
    const byEditor = await api(server, `/api/docs/${caps.docId}/rotate`, { method: 'POST', token: newEdit, body: '{"view":true}' });
    expect(byEditor.status).toBe(403);
  });

  it('closes every connection of a deleted document and refuses new ones', async () => {
    const server = await serve();
    const caps = mintDocument();
    const client = editor(server, caps);
    await client.synced;
    client.doc.getText('t').insert(0, 'to be deleted');
    const open = socket(server, caps.docId, caps.view);
    await open.opened;
    expect((await api(server, `/api/docs/${caps.docId}`, { method: 'DELETE', token: caps.edit })).status).toBe(403);
    expect((await api(server, `/api/docs/${caps.docId}`, { method: 'DELETE', token: caps.owner })).status).toBe(200);
    expect((await open.closed).code).toBe(CloseCode.documentDeleted);
    expect((await socket(server, caps.docId, caps.owner).closed).code).toBe(CloseCode.documentDeleted);
    expect((await api(server, `/api/docs/${caps.docId}/export`, { token: caps.view })).status).toBe(410);
    expect((await server.store.load(caps.docId)).updates).toHaveLength(0);
  });

  it('needs a capability for every API call on a document', async () => {
    const server = await serve();
    const caps = mintDocument();
    expect((await api(server, `/api/docs/${caps.docId}/export`)).status).toBe(401);
    expect((await api(server, `/api/docs/${caps.docId}/export`, { token: mintDocument().view })).status).toBe(403);
    expect((await api(server, `/api/docs/${caps.docId}/export?token=${caps.view}`)).status).toBe(200);
    const info = await (await api(server, `/api/docs/${caps.docId}`, { token: caps.view })).json();
    expect(info).toEqual({ id: caps.docId, role: 'view' });
  });
});

describe('caps', () => {
  it('closes a connection that sends a frame over the size cap with 4413', async () => {
    const server = await serve({ maxMessageBytes: 1024 });
    const caps = mintDocument();
    const raw = socket(server, caps.docId, caps.edit);
    await raw.opened;
    raw.send(encodeUpdateMessage(textUpdate('x'.repeat(1500))));
    expect((await raw.closed).code).toBe(CloseCode.messageTooLarge);
  });

  it('closes a connection that sends too much before its document is ready with 4413', async () => {
    // The document's load is held, so everything sent is queued until the cap is hit.
    const store = new GatedStore();
    store.loads.gate.hold();
    const server = await serve({ maxQueuedBytes: 2000, maxMessageBytes: 10_000 }, store);
    cleanups.push(() => store.loads.gate.release()); // before the server's close, which waits for loads
    const caps = mintDocument();
    const loading = store.loads.next();
    const raw = socket(server, caps.docId, caps.edit);
    await raw.opened;
    await loading;
    for (let i = 0; i < 4; i++) raw.send(encodeUpdateMessage(textUpdate('y'.repeat(800))));
    expect((await raw.closed).code).toBe(CloseCode.messageTooLarge);
  });

  it('closes a connection that sends too many messages per second with 4529', async () => {
    const server = await serve({ maxMessagesPerSecond: 20 });
    const caps = mintDocument();
    const raw = socket(server, caps.docId, caps.edit);
    await raw.opened;
    for (let i = 0; i < 200; i++) raw.send(new Uint8Array([MessageType.queryAwareness]));
    expect((await raw.closed).code).toBe(CloseCode.rateLimited);
  });

  it('refuses connections beyond the per-address cap with 4530', async () => {
    const server = await serve({ maxConnectionsPerIp: 2 });
    const caps = mintDocument();
    const [a, b] = [socket(server, caps.docId, caps.edit), socket(server, caps.docId, caps.edit)];
    await Promise.all([a.opened, b.opened]);
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.connectionCount).toBe(2));
    expect((await socket(server, caps.docId, caps.edit).closed).code).toBe(CloseCode.tooManyConnections);
    a.ws.close();
    await a.closed;
    const c = editor(server, caps);
    await c.synced; // the freed slot is usable again
  });

  it('closes a connection that grows the document past its cap with 4414', async () => {
    const server = await serve({ maxDocumentBytes: 500 });
    const caps = mintDocument();
    const raw = socket(server, caps.docId, caps.edit);
    await raw.opened;
    raw.send(encodeUpdateMessage(textUpdate('z'.repeat(800))));
    expect((await raw.closed).code).toBe(CloseCode.documentTooLarge);
  });

  it('closes a connection that piles up updates with missing dependencies with 4415', async () => {
    const server = await serve({ maxPendingBytes: 100 });
    const caps = mintDocument();
    const raw = socket(server, caps.docId, caps.edit);
    await raw.opened;
    const source = new Y.Doc();
    source.getText('t').insert(0, 'base');
    const sv = Y.encodeStateVector(source);
    source.getText('t').insert(4, 'q'.repeat(400));
    raw.send(encodeUpdateMessage(Y.encodeStateAsUpdate(source, sv)));
    expect((await raw.closed).code).toBe(CloseCode.tooMuchPendingData);
  });
});
