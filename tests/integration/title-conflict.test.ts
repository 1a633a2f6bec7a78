/**
 * Concurrent whole-title replacements end as a conflict with every candidate, on real servers
 * (issue #16, item 6): two regions partitioned through TCP proxies the test cuts, or a client
 * offline; a pick anywhere resolves it everywhere.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { pickTitle, setTitle, titleState, type TitleState } from '../../lib/documents/title';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startTwoRegions } from '../support/twoRegions';
import { TempDirs } from '../support/tempDirs';
import type * as Y from 'yjs';

const cleanups: (() => unknown)[] = [];
const dirs = new TempDirs();
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

/** Two regions, east and west, each dialing the other through a proxy the test can cut. */
function startRegions() {
  return startTwoRegions(
    async (name, region) => {
      const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: dirs.make(`concord-title-${name}-`), next: false, logLevel: 'silent', region });
      cleanups.push(() => server.close());
      return server;
    },
    (close) => cleanups.push(close),
  );
}

function client(server: RunningServer, docId: string, token: string): NodeClient {
  const c = connectClient(server.wsUrl, docId, token);
  cleanups.push(() => c.destroy());
  return c;
}

const linkUp = (server: RunningServer, peer: string) => server.replicator?.link(peer)?.isClosed === false;

/** What a replica shows: the title, the candidates' values (sorted), whether they conflict. */
function shown(doc: Y.Doc | undefined): { title: string; values: string[]; conflict: boolean } | null {
  if (!doc) return null;
  const state: TitleState = titleState(doc);
  return { title: state.title, values: state.candidates.map((c) => c.value).sort(), conflict: state.conflict };
}

describe('title conflicts', () => {
  it('two regions replacing the title during a partition both show the conflict after it; a pick in one resolves it in both', async () => {
    const { east, west, proxies } = await startRegions();
    await vi.waitFor(() => expect(linkUp(east, 'west') && linkUp(west, 'east')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const inEast = client(east, caps.docId, caps.edit);
    const inWest = client(west, caps.docId, caps.edit);
    await Promise.all([inEast.synced, inWest.synced]);
    setTitle(inEast.doc, 'A', { author: { name: 'East', color: '#d1242f' } });
    await vi.waitFor(() => expect(shown(inWest.doc)).toEqual({ title: 'A', values: ['A'], conflict: false }), { timeout: 10_000 });

    proxies.forEach((p) => p.cut());
    await vi.waitFor(() => expect(linkUp(east, 'west') || linkUp(west, 'east')).toBe(false), { timeout: 10_000 });
    setTitle(inEast.doc, 'B', { author: { name: 'East', color: '#d1242f' } });
    setTitle(inWest.doc, 'C', { author: { name: 'West', color: '#0969da' } });
    // Each region has its own replacement, stored, and no conflict yet.
    await vi.waitFor(() => expect(shown(east.relay.loadedRoom(caps.docId)?.doc)).toEqual({ title: 'B', values: ['B'], conflict: false }), { timeout: 10_000 });
    await vi.waitFor(() => expect(shown(west.relay.loadedRoom(caps.docId)?.doc)).toEqual({ title: 'C', values: ['C'], conflict: false }), { timeout: 10_000 });
    expect(shown(inEast.doc)).toMatchObject({ title: 'B', conflict: false });

    proxies.forEach((p) => p.heal());
    const replicas = () => [inEast.doc, inWest.doc, east.relay.loadedRoom(caps.docId)?.doc, west.relay.loadedRoom(caps.docId)?.doc];
    await vi.waitFor(() => {
      for (const doc of replicas()) expect(shown(doc)).toMatchObject({ values: ['B', 'C'], conflict: true });
    }, { timeout: 20_000 });
    // Every replica shows the same candidate, in the same order.
    const orders = replicas().map((doc) => titleState(doc!).candidates.map((c) => c.id).join());
    expect(new Set(orders).size).toBe(1);
    expect(titleState(inEast.doc).title).toBe(titleState(inWest.doc).title);

    const b = titleState(inWest.doc).candidates.find((c) => c.value === 'B')!;
    expect(pickTitle(inWest.doc, b.id, { author: { name: 'West', color: '#0969da' } })).toBe('B');
    await vi.waitFor(() => {
      for (const doc of replicas()) expect(shown(doc)).toEqual({ title: 'B', values: ['B'], conflict: false });
    }, { timeout: 20_000 });
  });

  it('two clients of one server, one of them offline, each replacing the title: a conflict once it is back', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: dirs.make('concord-title-one-'), next: false, logLevel: 'silent' });
    cleanups.push(() => server.close());
    const caps = mintDocument();
    const online = client(server, caps.docId, caps.edit);
    const offline = client(server, caps.docId, caps.edit);
    await Promise.all([online.synced, offline.synced]);
    setTitle(online.doc, 'A');
    await vi.waitFor(() => expect(shown(offline.doc)?.title).toBe('A'));

    offline.provider.disconnect();
    setTitle(offline.doc, 'Offline title');
    setTitle(online.doc, 'Online title');
    await vi.waitFor(() => expect(shown(server.relay.loadedRoom(caps.docId)?.doc)?.title).toBe('Online title'));
    expect(shown(offline.doc)).toEqual({ title: 'Offline title', values: ['Offline title'], conflict: false });

    offline.provider.connect();
    await vi.waitFor(() => {
      for (const doc of [online.doc, offline.doc]) expect(shown(doc)).toMatchObject({ values: ['Offline title', 'Online title'], conflict: true });
    }, { timeout: 10_000 });
    const pick = titleState(online.doc).candidates.find((c) => c.value === 'Offline title')!;
    pickTitle(online.doc, pick.id);
    await vi.waitFor(() => expect(shown(offline.doc)).toEqual({ title: 'Offline title', values: ['Offline title'], conflict: false }));
  });
});
