/**
 * Exports over HTTP from a real relay (issue #15, items 5 and 6): a raw client with an edit link
 * plants active content and content the schema does not know; every format of
 * GET /api/docs/<id>/export is checked for markup, and an export made with a view link must leave
 * the document byte-identical in memory, in every client and in storage.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import MarkdownIt from 'markdown-it';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { EXPORT_FORMATS } from '../../lib/documents/exportDocument';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import { TempDirs } from '../support/tempDirs';

const dataDirs = new TempDirs();
const clients: NodeClient[] = [];
const servers = new Set<RunningServer>();

async function start(dataDir: string): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', dataDir, next: false, logLevel: 'silent' });
  servers.add(server);
  return server;
}

async function stop(server: RunningServer): Promise<void> {
  servers.delete(server);
  await server.close();
}

afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of [...servers]) await stop(s);
  dataDirs.removeAll();
});

/** Sends `build`'s changes as one update over a bare edit connection, as a hand-written client would. */
async function plant(server: RunningServer, caps: DocumentCapabilities, build: (doc: Y.Doc) => void): Promise<void> {
  const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
  await raw.opened;
  const source = new Y.Doc();
  build(source);
  raw.send(encodeUpdateMessage(Y.encodeStateAsUpdate(source)));
  const expected = source.getXmlFragment('prosemirror').toString();
  await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.doc.getXmlFragment('prosemirror').toString()).toBe(expected));
  raw.ws.close();
  await raw.closed;
}

async function exportAs(server: RunningServer, caps: DocumentCapabilities, format: string): Promise<Response> {
  const res = await fetch(`${server.url}/api/docs/${caps.docId}/export?format=${format}`, { headers: { Authorization: `Bearer ${caps.view}` } });
  expect(res.status, format).toBe(200);
  return res;
}

function paragraphOf(doc: Y.Doc, fill: (text: Y.XmlText) => void): void {
  const p = new Y.XmlElement('paragraph');
  const text = new Y.XmlText();
  doc.getXmlFragment('prosemirror').push([p]);
  p.push([text]);
  fill(text);
}

/** Markup a renderer made of `html`: tags that can run or load something, handlers, script URLs. */
function activeMarkup(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<(script|img|iframe|svg|object|embed|style|link)\b/gi)) found.push(m[0]);
  for (const tag of html.matchAll(/<[a-z][^\s/>]*([^>]*)>/gi)) {
    for (const [, name, ...values] of tag[1]!.matchAll(/([^\s=/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      const value = values.find((v) => v !== undefined) ?? '';
      if (/^on/i.test(name!)) found.push(tag[0]);
      if (/^(href|src)$/i.test(name!) && /^\s*(javascript|data|vbscript):/i.test(value)) found.push(tag[0]);
    }
  }
  return found;
}

describe('exports of what a hostile editor planted', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start(dataDirs.make('concord-export-hostile-'));
  });

  it('carry no active content in any format', async () => {
    const caps = mintDocument();
    await plant(server, caps, (doc) => {
      doc.getText('title').insert(0, '</title><script>window.__pwned=1</script>');
      paragraphOf(doc, (t) => {
        t.insert(0, ' click-me', { link: { href: 'javascript:window.__pwned=2' } });
        t.insert(t.length, '<img src=x onerror="window.__pwned=3">');
      });
      paragraphOf(doc, (t) => {
        t.insert(0, 'see http://example.com/');
        t.insert(t.length, '<img src=x onerror=alert(4)>', { code: {} });
      });
      paragraphOf(doc, (t) => t.insert(0, 'autolink', { link: { href: 'mailto:a@b.c><img src=x onerror=alert(5)>' } }));
    });

    const md = await exportAs(server, caps, 'md');
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    const markdown = await md.text();
    expect(markdown).not.toMatch(/\]\(\s*javascript:/i);
    // As a reader meets it: a renderer with raw HTML on and no link checks of its own.
    const renderer = new MarkdownIt({ html: true, linkify: true });
    renderer.validateLink = () => true;
    const rendered = renderer.render(markdown);
    expect(activeMarkup(rendered)).toEqual([]);
    expect(rendered).not.toMatch(/javascript:/i);
    expect(rendered).toContain('click-me&lt;img src=x onerror=&quot;window.__pwned=3&quot;&gt;');

    const html = await exportAs(server, caps, 'html');
    expect(html.headers.get('content-disposition')).toMatch(/^attachment;/);
    const page = await html.text();
    expect(activeMarkup(page)).toEqual([]);
    expect(page).not.toMatch(/javascript:/i);
    expect(page).toContain('<title>&#60;/title&#62;&#60;script&#62;window.__pwned=1&#60;/script&#62;</title>');
    expect(page).toContain('click-me&#60;img src=x onerror=&#34;window.__pwned=3&#34;&#62;');

    const txt = await exportAs(server, caps, 'txt');
    expect(txt.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(txt.headers.get('x-content-type-options')).toBe('nosniff');
    const plain = await txt.text();
    // Plain text is the words as written; served as text/plain, nosniff, it is never markup.
    expect(plain).toContain(' click-me<img src=x onerror="window.__pwned=3">');
    expect(plain).not.toMatch(/javascript:/i);
  });
});

describe('an export made with a view link', () => {
  it('changes nothing: not the room, not a connected client, not storage — and keeps what the schema does not know', async () => {
    const dataDir = dataDirs.make('concord-export-readonly-');
    let server = await start(dataDir);
    const caps = mintDocument();
    await plant(server, caps, (doc) => {
      doc.getText('title').insert(0, 'Newer content');
      paragraphOf(doc, (t) => t.insert(0, 'known paragraph'));
      // A table, as a newer version of the editor would write it: unknown to this schema.
      const table = new Y.XmlElement('table');
      doc.getXmlFragment('prosemirror').push([table]);
      const row = new Y.XmlElement('table_row');
      table.push([row]);
      const cell = new Y.XmlElement('table_cell');
      row.push([cell]);
      const p = new Y.XmlElement('paragraph');
      cell.push([p]);
      p.push([new Y.XmlText('cell text')]);
    });
    const room = server.relay.loadedRoom(caps.docId)!;
    const viewer = connectClient(server.wsUrl, caps.docId, caps.view);
    clients.push(viewer);
    await viewer.synced;
    await vi.waitFor(() => expect(viewer.doc.getXmlFragment('prosemirror').toString()).toBe(room.doc.getXmlFragment('prosemirror').toString()));
    const stored = async () => {
      const doc = new Y.Doc();
      for (const update of (await server.store.load(caps.docId)).updates) Y.applyUpdate(doc, update);
      return doc;
    };
    await vi.waitFor(async () => expect((await stored()).getXmlFragment('prosemirror').toString()).toContain('<table>'));

    const before = {
      roomState: Y.encodeStateAsUpdate(room.doc),
      roomVector: Y.encodeStateVector(room.doc),
      viewerState: Y.encodeStateAsUpdate(viewer.doc),
      storedState: Y.encodeStateAsUpdate(await stored()),
    };
    for (const format of EXPORT_FORMATS) {
      const body = await (await exportAs(server, caps, format)).text();
      expect(body, format).toContain('known paragraph');
      expect(body, format).toContain('cell text');
    }

    // Barrier: the relay sends a document change to a connection before any presence that came
    // in after it, so once the viewer sees this presence, it has seen whatever an export changed.
    const barrier = connectClient(server.wsUrl, caps.docId, caps.view);
    clients.push(barrier);
    barrier.provider.awareness.setLocalStateField('user', { name: 'barrier' });
    await vi.waitFor(() => {
      const names = [...viewer.provider.awareness.getStates().values()].map((s) => (s.user as { name?: string } | undefined)?.name);
      expect(names).toContain('barrier');
    });
    expect(Y.encodeStateAsUpdate(room.doc)).toEqual(before.roomState);
    expect(Y.encodeStateVector(room.doc)).toEqual(before.roomVector);
    expect(Y.encodeStateAsUpdate(viewer.doc)).toEqual(before.viewerState);
    expect(room.doc.getXmlFragment('prosemirror').toString()).toContain('<table>');

    // Storage, read back after a clean shutdown has written everything it would ever write.
    for (const c of clients.splice(0)) c.destroy();
    await stop(server);
    server = await start(dataDir);
    expect(Y.encodeStateAsUpdate(await stored())).toEqual(before.storedState);
    // An export from storage alone (no room loaded) reads it the same way and writes nothing either.
    expect(server.relay.loadedRoom(caps.docId)).toBeUndefined();
    expect(await (await exportAs(server, caps, 'md')).text()).toBe('# Newer content\n\nknown paragraph\n\ncell text\n');
    expect(Y.encodeStateAsUpdate(await stored())).toEqual(before.storedState);
  });
});
