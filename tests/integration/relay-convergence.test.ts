/** A real server on port 0 and headless clients with the stock y-websocket provider. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { DOC_ID_PATTERN } from '../../lib/ids';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import { seededRandom } from '../support/fuzzFrames';
import { TempDirs } from '../support/tempDirs';

let server: RunningServer;
const clients: NodeClient[] = [];
const dataDirs = new TempDirs();

beforeAll(async () => {
  const dataDir = dataDirs.make('concord-converge-');
  server = await startServer({ port: 0, host: '127.0.0.1', dataDir, next: false, logLevel: 'silent' });
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
  dataDirs.removeAll();
});

function client(docId: string, token: string): NodeClient {
  const c = connectClient(server.wsUrl, docId, token);
  clients.push(c);
  return c;
}

function isSyncUpdate(frame: Uint8Array): boolean {
  const d = decoding.createDecoder(frame);
  return decoding.readVarUint(d) === MessageType.sync && decoding.readVarUint(d) === syncProtocol.messageYjsUpdate;
}

describe('relay', () => {
  it('makes concurrent edits from three clients converge', async () => {
    const caps = mintDocument();
    const trio = [client(caps.docId, caps.edit), client(caps.docId, caps.edit), client(caps.docId, caps.edit)];
    await Promise.all(trio.map((c) => c.synced));
    const random = seededRandom(3);
    // Interleave edits from all three while updates are in flight.
    for (let round = 0; round < 60; round++) {
      trio.forEach((c, n) => {
        const text = c.doc.getText('body');
        text.insert(Math.floor(random() * (text.length + 1)), `${n}:${round} `);
        if (round % 10 === 0) {
          const p = new Y.XmlElement('paragraph');
          p.insert(0, [new Y.XmlText(`p${n}-${round}`)]);
          c.doc.getXmlFragment('prosemirror').push([p]);
        }
        if (round % 7 === 0 && text.length > 10) text.delete(Math.floor(random() * (text.length - 3)), 2);
      });
      if (round % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await vi.waitFor(() => {
      const [a, b, c] = trio.map((x) => x.doc.getText('body').toString());
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(trio[1]!.doc.getXmlFragment('prosemirror').toString()).toBe(trio[0]!.doc.getXmlFragment('prosemirror').toString());
      expect(trio[2]!.doc.getXmlFragment('prosemirror').length).toBe(18);
    });

    const late = client(caps.docId, caps.view);
    await late.synced;
    expect(late.doc.getText('body').toString()).toBe(trio[0]!.doc.getText('body').toString());
    expect(late.doc.getXmlFragment('prosemirror').toString()).toBe(trio[0]!.doc.getXmlFragment('prosemirror').toString());
  });

  it('never sends an update back to the connection it came from', async () => {
    const caps = mintDocument();
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    await raw.opened;
    const source = new Y.Doc();
    source.getText('t').insert(0, 'from the raw socket');
    const answered = raw.waitFor((f) => f[0] === MessageType.awareness);
    raw.send(encodeUpdateMessage(Y.encodeStateAsUpdate(source)));
    raw.send(new Uint8Array([MessageType.queryAwareness])); // answered only after the update was handled
    expect(await answered).toBe('matched');
    expect(raw.received.filter(isSyncUpdate)).toHaveLength(0);
    expect(server.relay.loadedRoom(caps.docId)?.doc.getText('t').toString()).toBe('from the raw socket');

    // Positive control: someone else's change does reach it.
    const other = client(caps.docId, caps.edit);
    await other.synced;
    const gotUpdate = raw.waitFor(isSyncUpdate);
    other.doc.getText('t').insert(0, '> ');
    expect(await gotUpdate).toBe('matched');
    raw.ws.close();
  });
});

describe('HTTP API', () => {
  it('creates documents with owner, edit and view links', async () => {
    const res = await fetch(`${server.url}/api/docs`, { method: 'POST' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(body.id).toMatch(DOC_ID_PATTERN);
    for (const key of ['ownerUrl', 'editUrl', 'viewUrl']) {
      expect(body[key]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/d/${body.id}#token=[A-Za-z0-9_-]{43}$`));
    }
    expect(new Set([body.ownerUrl, body.editUrl, body.viewUrl]).size).toBe(3);
    expect(Date.parse(body.createdAt!)).not.toBeNaN();
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('exports what clients wrote as text, Markdown and HTML (a download)', async () => {
    const caps = mintDocument();
    const writer = client(caps.docId, caps.edit);
    await writer.synced;
    writer.doc.getText('title').insert(0, 'Export me');
    const heading = new Y.XmlElement('heading');
    heading.setAttribute('level', 2 as unknown as string);
    heading.insert(0, [new Y.XmlText('Section')]);
    const p = new Y.XmlElement('paragraph');
    p.insert(0, [new Y.XmlText('Body <b>not html</b>')]);
    writer.doc.getXmlFragment('prosemirror').push([heading, p]);
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.doc.getXmlFragment('prosemirror').length).toBe(2));

    const get = (format: string) => fetch(`${server.url}/api/docs/${caps.docId}/export?format=${format}`, { headers: { Authorization: `Bearer ${caps.view}` } });
    const txt = await get('txt');
    expect(txt.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await txt.text()).toBe('Export me\n\nSection\nBody <b>not html</b>\n');
    expect(await (await get('md')).text()).toBe('# Export me\n\n## Section\n\nBody &lt;b&gt;not html&lt;/b&gt;\n');
    const html = await get('html');
    expect(html.headers.get('content-disposition')).toMatch(/^attachment; filename="Export me\.html"/);
    const htmlText = await html.text();
    expect(htmlText).toContain('<h2>Section</h2>');
    expect(htmlText).toContain('Body &#60;b&#62;not html&#60;/b&#62;');
    expect((await get('pdf')).status).toBe(400);
  });

  it('answers bad document IDs with 400 and unknown endpoints with 404', async () => {
    const { view } = mintDocument();
    for (const id of ['short', 'x'.repeat(10_000), '%E0%A4%A']) {
      const res = await fetch(`${server.url}/api/docs/${id}/export?token=${view}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_document_id');
    }
    expect((await fetch(`${server.url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/docs`, { method: 'GET' })).status).toBe(405);
  });

  it('reports health and Prometheus metrics', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', storage: { kind: 'sqlite', status: 'ok' } });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['concord_connections', 'concord_documents_loaded', 'concord_messages_received_total', 'concord_bytes_sent_total', 'concord_save_duration_seconds_count']) {
      expect(metrics).toContain(name);
    }
  });
});
