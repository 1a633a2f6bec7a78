/**
 * Version history (issue #16): versions made by activity and by name, their authors, the API,
 * restore reaching connected and offline clients, deletion, and versions replicating between two
 * regions across a partition. In-process servers on SQLite; partitions are TCP proxies cut for real.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer, type StartOptions } from '../../server/startServer';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { recordAuthor } from '../../lib/documents/authors';
import { readTitle } from '../../lib/documents/title';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startTwoRegions } from '../support/twoRegions';
import { TempDirs } from '../support/tempDirs';

const QUICK_HISTORY = { quietMs: 150, everyChanges: 10_000, sweepMs: 25 };
const cleanups: (() => unknown)[] = [];
const dirs = new TempDirs();
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

async function server(extra: Partial<StartOptions> = {}): Promise<RunningServer> {
  const s = await startServer({ port: 0, host: '127.0.0.1', dataDir: dirs.make('concord-history-'), next: false, logLevel: process.env.TEST_LOG ?? 'silent', history: QUICK_HISTORY, ...extra });
  cleanups.push(() => s.close());
  return s;
}

/** Who each test replica writes as: recorded with its first change, as the editor does. */
const writers = new WeakMap<Y.Doc, { name: string; color: string }>();

function client(s: RunningServer, docId: string, token: string, name?: string, color = '#0969da'): NodeClient {
  const c = connectClient(s.wsUrl, docId, token);
  if (name) writers.set(c.doc, { name, color });
  cleanups.push(() => c.destroy());
  return c;
}

function addParagraph(doc: Y.Doc, text: string): void {
  const p = new Y.XmlElement('paragraph');
  p.insert(0, [new Y.XmlText(text)]);
  const body = doc.getXmlFragment(BODY_FRAGMENT);
  doc.transact(() => {
    const writer = writers.get(doc);
    if (writer) recordAuthor(doc, doc.clientID, writer);
    body.insert(body.length, [p]);
  });
}

function paragraphs(doc: Y.Doc): string[] {
  return doc.getXmlFragment(BODY_FRAGMENT).toArray().map((p) => ((p as Y.XmlElement).get(0) as Y.XmlText | undefined)?.toString() ?? '');
}

interface Summary {
  id: string;
  kind: string;
  name: string | null;
  createdAt: string;
  region: string | null;
  authors: { name: string; color: string }[];
}

async function api(s: RunningServer, path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers } });
}

async function versions(s: RunningServer, caps: DocumentCapabilities): Promise<Summary[]> {
  const res = await api(s, `/api/docs/${caps.docId}/versions`, caps.view);
  expect(res.status).toBe(200);
  return (await res.json()).versions;
}

async function nameVersion(s: RunningServer, caps: DocumentCapabilities, name: string): Promise<Summary> {
  const res = await api(s, `/api/docs/${caps.docId}/versions`, caps.edit, { method: 'POST', body: JSON.stringify({ name }) });
  expect(res.status).toBe(201);
  return (await res.json()).version;
}

async function versionText(s: RunningServer, caps: DocumentCapabilities, versionId: string): Promise<string> {
  const res = await api(s, `/api/docs/${caps.docId}/versions/${versionId}?format=txt`, caps.view);
  expect(res.status).toBe(200);
  return res.text();
}

describe('version history', () => {
  it('records a version after a burst of edits, listing who edited since the previous one', async () => {
    const s = await server();
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada', '#d1242f');
    const bo = client(s, caps.docId, caps.edit, 'Bo', '#1a7f37');
    await Promise.all([ada.synced, bo.synced]);
    addParagraph(ada.doc, 'first by Ada');
    await vi.waitFor(async () => expect(await versions(s, caps)).toHaveLength(1), { timeout: 10_000 });
    addParagraph(bo.doc, 'then Bo');
    await vi.waitFor(async () => expect(await versions(s, caps)).toHaveLength(2), { timeout: 10_000 });
    const [newest, oldest] = await versions(s, caps);
    expect(oldest!.authors).toEqual([{ name: 'Ada', color: '#d1242f' }]);
    expect(newest!.authors).toEqual([{ name: 'Bo', color: '#1a7f37' }]);
    expect(newest!.kind).toBe('auto');
    expect(await versionText(s, caps, oldest!.id)).toBe('first by Ada\n');
    expect(await versionText(s, caps, newest!.id)).toBe('first by Ada\nthen Bo\n');
    // Nothing is left waiting for a version: a quiet document records nothing more.
    expect(s.history!.recorder.pendingDocuments).toBe(0);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^concord_versions_recorded_total 2$/m);
    expect(metrics).toMatch(/^concord_history_pending_documents 0$/m);
  });

  it('records who deleted what, and lists someone who only deleted among the version\'s editors', async () => {
    const s = await server();
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada', '#d1242f');
    const bo = client(s, caps.docId, caps.edit, 'Bo', '#1a7f37');
    await Promise.all([ada.synced, bo.synced]);
    addParagraph(ada.doc, 'keep this, drop that');
    await vi.waitFor(() => expect(paragraphs(bo.doc)).toEqual(['keep this, drop that']));
    addParagraph(bo.doc, 'by Bo');
    // However the sweep cut those edits into versions, wait until the newest holds them all.
    await vi.waitFor(async () => {
      const [newest] = await versions(s, caps);
      expect(newest && (await versionText(s, caps, newest.id))).toBe('keep this, drop that\nby Bo\n');
      expect(s.history!.recorder.pendingDocuments).toBe(0);
    }, { timeout: 10_000 });
    const before = (await versions(s, caps)).length;
    // Bo now only deletes, in Ada's paragraph.
    const text = (bo.doc.getXmlFragment(BODY_FRAGMENT).get(0) as Y.XmlElement).get(0) as Y.XmlText;
    text.delete(9, 11);
    await vi.waitFor(async () => expect(await versions(s, caps)).toHaveLength(before + 1), { timeout: 10_000 });
    const [newest] = await versions(s, caps);
    expect(newest!.authors).toEqual([{ name: 'Bo', color: '#1a7f37' }]);
    const detail = await (await api(s, `/api/docs/${caps.docId}/versions/${newest!.id}`, caps.view)).json();
    expect(detail.deletions).toHaveLength(1);
    expect(detail.deletions[0].author).toEqual({ name: 'Bo', color: '#1a7f37' });
    const { decodeDeletedRanges, rangesContain } = await import('../../lib/history/deleteSets');
    const { fromBase64UrlEncoded } = await import('lib0/buffer');
    const ranges = decodeDeletedRanges(fromBase64UrlEncoded(detail.deletions[0].ranges));
    // The deleted ", drop that" is Ada's text (her client, clocks after "keep this").
    const adaClock = (clock: number) => rangesContain(ranges, ada.doc.clientID, clock);
    const deletedClocks = [...ranges.get(ada.doc.clientID) ?? []].reduce((n, r) => n + r.len, 0);
    expect(deletedClocks).toBe(11);
    expect(adaClock(0)).toBe(false);
    // A named version carries who deleted what since the last version too.
    text.delete(0, 5);
    await vi.waitFor(() => expect(paragraphs(ada.doc)[0]).toBe('this'));
    const named = await nameVersion(s, caps, 'After Bo\'s cut');
    expect(named.authors).toEqual([{ name: 'Bo', color: '#1a7f37' }]);
    const namedDetail = await (await api(s, `/api/docs/${caps.docId}/versions/${named.id}`, caps.view)).json();
    expect(namedDetail.deletions.map((d: { author: { name: string } }) => d.author.name)).toEqual(['Bo']);
    const namedRanges = decodeDeletedRanges(fromBase64UrlEncoded(namedDetail.deletions[0].ranges));
    expect([...namedRanges.get(ada.doc.clientID) ?? []].reduce((n, r) => n + r.len, 0)).toBe(5);
  });

  it('records every N changes while editing goes on, and named versions on request', async () => {
    const s = await server({ history: { quietMs: 60_000, everyChanges: 5, sweepMs: 25 } });
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada');
    await ada.synced;
    for (let i = 0; i < 5; i++) addParagraph(ada.doc, `line ${i}`);
    await vi.waitFor(async () => expect(await versions(s, caps)).toHaveLength(1), { timeout: 10_000 });
    addParagraph(ada.doc, 'named now');
    await vi.waitFor(() => expect(s.relay.loadedRoom(caps.docId)?.doc.getXmlFragment(BODY_FRAGMENT).length).toBe(6));
    const named = await nameVersion(s, caps, '  Draft   one ');
    expect(named).toMatchObject({ kind: 'named', name: 'Draft one' });
    const list = await versions(s, caps);
    expect(list.map((v) => v.kind)).toEqual(['named', 'auto']);
    expect(await versionText(s, caps, named.id)).toContain('named now');
    const one = await (await api(s, `/api/docs/${caps.docId}/versions/${named.id}`, caps.view)).json();
    expect(one).toMatchObject({ version: { id: named.id }, previousId: list[1]!.id });
  });

  it('answers bad requests with clear errors and lets view links read but not write', async () => {
    const s = await server();
    const caps = mintDocument();
    const base = `/api/docs/${caps.docId}/versions`;
    const post = (token: string, body: unknown) => api(s, base, token, { method: 'POST', body: JSON.stringify(body) });
    expect((await post(caps.edit, { name: '' })).status).toBe(400);
    expect((await post(caps.edit, { name: 'x'.repeat(101) })).status).toBe(400);
    expect((await post(caps.edit, { title: 'x' })).status).toBe(400);
    const forbidden = await post(caps.view, { name: 'mine' });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe('forbidden');
    expect((await api(s, base, 'not-a-token')).status).toBe(403);
    expect((await fetch(`${s.url}${base}`)).status).toBe(401);
    expect((await api(s, `${base}/short`, caps.view)).status).toBe(400);
    const missing = await api(s, `${base}/${'A'.repeat(22)}`, caps.view);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('version_not_found');
    const named = await nameVersion(s, caps, 'v');
    expect((await api(s, `${base}/${named.id}?format=pdf`, caps.view)).status).toBe(400);
    expect((await api(s, `${base}/${named.id}/restore`, caps.view, { method: 'POST' })).status).toBe(403);
    expect((await api(s, `${base}/${named.id}/restore`, caps.edit)).status).toBe(405);
  });

  it('restores a version as a new change: connected clients get it, an offline client\'s edits survive beside it', async () => {
    const s = await server();
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada');
    const bo = client(s, caps.docId, caps.edit, 'Bo');
    await Promise.all([ada.synced, bo.synced]);
    addParagraph(ada.doc, 'kept paragraph');
    addParagraph(ada.doc, 'good text');
    ada.doc.getText('title').insert(0, 'Plan');
    await vi.waitFor(() => expect(paragraphs(bo.doc)).toEqual(['kept paragraph', 'good text']));
    const good = await nameVersion(s, caps, 'Good');
    // An offline replica, in sync now, edits the kept paragraph while cut off.
    const offlineDoc = new Y.Doc();
    Y.applyUpdate(offlineDoc, Y.encodeStateAsUpdate(bo.doc));
    ((offlineDoc.getXmlFragment(BODY_FRAGMENT).get(0) as Y.XmlElement).get(0) as Y.XmlText).insert(0, 'still ');
    // Then the document goes wrong.
    ada.doc.getXmlFragment(BODY_FRAGMENT).delete(1, 1);
    addParagraph(ada.doc, 'bad text');
    await vi.waitFor(() => expect(paragraphs(bo.doc)).toEqual(['kept paragraph', 'bad text']));
    const clientsBefore = new Set(s.relay.loadedRoom(caps.docId)!.doc.store.clients.keys());
    const res = await api(s, `/api/docs/${caps.docId}/versions/${good.id}/restore`, caps.edit, { method: 'POST' });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer.restored.id).toBe(good.id);
    expect(answer.beforeRestore).toMatchObject({ kind: 'named', name: 'Before restore' });
    expect(await versionText(s, caps, answer.beforeRestore.id)).toContain('bad text');
    for (const c of [ada, bo]) await vi.waitFor(() => expect(paragraphs(c.doc)).toEqual(['kept paragraph', 'good text']));
    // The restore was made by a new Yjs client, not the server's own.
    const restorers = [...s.relay.loadedRoom(caps.docId)!.doc.store.clients.keys()].filter((id) => !clientsBefore.has(id));
    expect(restorers).toHaveLength(1);
    expect(restorers[0]).not.toBe(s.relay.loadedRoom(caps.docId)!.doc.clientID);
    // A second restore uses yet another client.
    expect((await api(s, `/api/docs/${caps.docId}/versions/${good.id}/restore`, caps.edit, { method: 'POST' })).status).toBe(200);
    // The offline replica comes back: its edit and the restore both stand, everywhere.
    const late = client(s, caps.docId, caps.edit);
    Y.applyUpdate(late.doc, Y.encodeStateAsUpdate(offlineDoc));
    await late.synced;
    for (const c of [ada, bo, late]) await vi.waitFor(() => expect(paragraphs(c.doc)).toEqual(['still kept paragraph', 'good text']));
    expect(readTitle(late.doc)).toBe('Plan');
  });

  it('a restore made by an editor\'s replica (as the History panel does) is undone by that editor, for everyone', async () => {
    const s = await server();
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada');
    const bo = client(s, caps.docId, caps.edit, 'Bo');
    await Promise.all([ada.synced, bo.synced]);
    addParagraph(ada.doc, 'old words');
    await vi.waitFor(() => expect(paragraphs(bo.doc)).toEqual(['old words']));
    const old = await nameVersion(s, caps, 'Old');
    addParagraph(bo.doc, 'newer words by Bo');
    await vi.waitFor(() => expect(paragraphs(ada.doc)).toEqual(['old words', 'newer words by Bo']));
    // Ada restores in her own replica: the version's content, applied as one tracked change.
    const res = await api(s, `/api/docs/${caps.docId}/versions/${old.id}?format=yjs`, caps.view);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const version = new Y.Doc();
    Y.applyUpdate(version, new Uint8Array(await res.arrayBuffer()));
    const { restoreInto } = await import('../../lib/history/restoreVersion');
    const RESTORE = Symbol('restore');
    const undo = new Y.UndoManager([ada.doc.getXmlFragment(BODY_FRAGMENT)], { trackedOrigins: new Set([RESTORE]) });
    restoreInto(ada.doc, version, RESTORE);
    await vi.waitFor(() => expect(paragraphs(bo.doc)).toEqual(['old words']));
    undo.undo();
    for (const c of [ada, bo]) await vi.waitFor(() => expect(paragraphs(c.doc)).toEqual(['old words', 'newer words by Bo']));
    const stored = new Y.Doc();
    await vi.waitFor(async () => {
      for (const update of (await s.store.load(caps.docId)).updates) Y.applyUpdate(stored, update);
      expect(paragraphs(stored)).toEqual(['old words', 'newer words by Bo']);
    });
  });

  it('deletes a document\'s history with the document', async () => {
    const s = await server();
    const caps = mintDocument();
    const ada = client(s, caps.docId, caps.edit, 'Ada');
    await ada.synced;
    addParagraph(ada.doc, 'soon gone');
    await nameVersion(s, caps, 'v1');
    const { historyDocId } = await import('../../lib/history/versionModel');
    const historyId = historyDocId(caps.docId);
    expect((await s.store.load(historyId)).updates.length + (s.relay.loadedRoom(historyId) ? 1 : 0)).toBeGreaterThan(0);
    expect((await api(s, `/api/docs/${caps.docId}`, caps.owner, { method: 'DELETE' })).status).toBe(200);
    await vi.waitFor(async () => expect((await s.store.getDocument(historyId))?.access.deleted).toBe(true));
    expect((await s.store.load(historyId)).updates).toEqual([]);
  });


  it('thins automatic versions as they age and keeps named ones, in the stored history', async () => {
    const s = await server({ history: false });
    const { VersionLog } = await import('../../server/history/VersionLog');
    const { listVersions, historyDocId } = await import('../../lib/history/versionModel');
    let now = Date.UTC(2026, 0, 1);
    const log = new VersionLog(s.relay, s.store, (await import('../../server/log')).createLogger('silent'), { now: () => now });
    const caps = mintDocument();
    const doc = new Y.Doc();
    const expected = new Map<string, string[]>();
    // Two days of editing, a version every 10 minutes, one of them named; paragraphs are also
    // deleted, so diffs carry deletions.
    for (let i = 0; i < 2 * 24 * 6; i++) {
      addParagraph(doc, `edit ${i}`);
      if (i % 3 === 2) doc.getXmlFragment(BODY_FRAGMENT).delete(i % 2, 1);
      const record = await log.record(caps.docId, doc, i === 7 ? { kind: 'named', name: 'Milestone' } : { kind: 'auto', name: null });
      expected.set(record!.id, paragraphs(doc));
      now += 10 * 60 * 1000;
    }
    const list = await log.list(caps.docId);
    // The last 24 hours whole (144), the day before one per hour (24), the named one.
    expect(list.filter((v) => v.kind === 'auto')).toHaveLength(144 + 24);
    expect(list.filter((v) => v.kind === 'named').map((v) => v.name)).toEqual(['Milestone']);
    // Every version left still reads back whole, from storage too.
    await s.relay.close();
    const stored = new Y.Doc();
    for (const update of (await s.store.load(historyDocId(caps.docId))).updates) Y.applyUpdate(stored, update);
    const { versionDoc } = await import('../../lib/history/versionModel');
    const records = listVersions(stored);
    expect(records.map((r) => r.id)).toEqual(list.map((r) => r.id));
    for (const record of records) {
      const content = versionDoc(stored, record);
      expect(content).not.toBeNull();
      expect(paragraphs(content!)).toEqual(expected.get(record.id));
    }
  });
});

describe('version history across instances', () => {
  it('shows every instance the versions another recorded, live once it has the history open', async () => {
    const { startRedisServer } = await import('../support/redisServer');
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const dataDir = dirs.make('concord-history-instances-');
    const instance = (id: string) => server({ dataDir, instances: { redisUrl: redis.url, instanceId: id } });
    const [one, two] = [await instance('one'), await instance('two')];
    const caps = mintDocument();
    const ada = client(one, caps.docId, caps.edit, 'Ada');
    await ada.synced;
    addParagraph(ada.doc, 'first');
    await vi.waitFor(async () => expect(await versions(two, caps)).toHaveLength(1), { timeout: 10_000 });
    // Instance two now has the history document open: the next version reaches it over the bus.
    addParagraph(ada.doc, 'second');
    await vi.waitFor(async () => expect(await versions(two, caps)).toHaveLength(2), { timeout: 10_000 });
    const [newest] = await versions(two, caps);
    expect(await versionText(two, caps, newest!.id)).toBe('first\nsecond\n');
    // Only the instance whose client edited recorded them.
    expect(two.history!.recorder.recorded).toBe(0);
    expect(one.history!.recorder.recorded).toBe(2);
  });
});

describe('version history across regions', () => {
  const twoRegions = () => startTwoRegions((_name, region) => server({ region }), (close) => cleanups.push(close));

  it('replicates versions live, and after a partition both regions list the same versions, once each', async () => {
    const { east, west, proxies } = await twoRegions();
    await vi.waitFor(() => expect(east.replicator!.link('west')?.isClosed === false && west.replicator!.link('east')?.isClosed === false).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const e = client(east, caps.docId, caps.edit, 'Eve');
    const w = client(west, caps.docId, caps.edit, 'Wes');
    await Promise.all([e.synced, w.synced]);
    addParagraph(e.doc, 'from east');
    await vi.waitFor(async () => expect(await versions(west, caps)).toHaveLength(1), { timeout: 10_000 });
    expect((await versions(west, caps))[0]).toMatchObject({ region: 'east', authors: [{ name: 'Eve' }] });

    proxies.forEach((p) => p.cut());
    addParagraph(e.doc, 'east during the cut');
    addParagraph(w.doc, 'west during the cut');
    const namedWest = await nameVersion(west, caps, 'west named');
    addParagraph(w.doc, 'west after naming');
    await vi.waitFor(async () => expect(await versions(east, caps)).toHaveLength(2), { timeout: 10_000 });
    await vi.waitFor(async () => expect((await versions(west, caps)).filter((v) => v.kind === 'auto')).toHaveLength(2), { timeout: 10_000 });
    const eastDuring = (await versions(east, caps)).map((v) => v.id);
    expect(eastDuring).not.toContain(namedWest.id);

    proxies.forEach((p) => p.heal());
    await vi.waitFor(async () => {
      const [a, b] = [await versions(east, caps), await versions(west, caps)];
      expect(a.map((v) => v.id)).toEqual(b.map((v) => v.id));
      expect(a).toHaveLength(4);
    }, { timeout: 20_000 });
    const listed = await versions(east, caps);
    expect(new Set(listed.map((v) => v.id)).size).toBe(listed.length);
    // Each version reads the same in both regions.
    for (const v of listed) expect(await versionText(east, caps, v.id)).toBe(await versionText(west, caps, v.id));
  });
});
