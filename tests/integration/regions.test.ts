/**
 * Regions (issue #12): two leaders in one process, each with its own SQLite data directory and
 * clients, linked through TCP proxies the test cuts for real partitions.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument, rotatedCapability } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { TempDirs } from '../support/tempDirs';

const SECRET = 'a-cluster-secret-of-at-least-32-characters';
const cleanups: (() => unknown)[] = [];
const dirs = new TempDirs();
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

interface Cluster {
  a: RunningServer;
  b: RunningServer;
  /** Both directions of the A–B link. */
  proxies: TcpProxy[];
  cut(): void;
  heal(): void;
}

async function startRegions(secretB = SECRET, dataDirs = [dirs.make('concord-region-a-'), dirs.make('concord-region-b-')]): Promise<Cluster> {
  const ports = { a: 0, b: 0 };
  const toB = await startTcpProxy(() => ports.b);
  const toA = await startTcpProxy(() => ports.a);
  cleanups.push(() => toB.close(), () => toA.close());
  const options = (name: string, dataDir: string, peer: TcpProxy, secret: string) => ({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    next: false as const,
    logLevel: 'silent',
    region: { region: name, peers: [new URL(peer.url)], secret, catchUpIntervalMs: 200 },
  });
  const a = await startServer(options('east', dataDirs[0]!, toB, SECRET));
  ports.a = a.port;
  cleanups.push(() => a.close());
  const b = await startServer(options('west', dataDirs[1]!, toA, secretB));
  ports.b = b.port;
  cleanups.push(() => b.close());
  const proxies = [toA, toB];
  return {
    a,
    b,
    proxies,
    cut: () => proxies.forEach((p) => p.cut()),
    heal: () => proxies.forEach((p) => p.heal()),
  };
}

function client(server: RunningServer, docId: string, token: string): NodeClient {
  const c = connectClient(server.wsUrl, docId, token);
  cleanups.push(() => c.destroy());
  return c;
}

const linkUp = (server: RunningServer, peer: string) => server.replicator?.link(peer)?.isClosed === false;
const text = (c: NodeClient) => c.doc.getText('title').toString();

describe('regions', () => {
  it('replicates a change live to the other region, once, and the quiet link carries no updates', async () => {
    const cluster = await startRegions();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west') && linkUp(cluster.b, 'east')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const east = client(cluster.a, caps.docId, caps.edit);
    const west = client(cluster.b, caps.docId, caps.edit);
    await Promise.all([east.synced, west.synced]);
    const link = cluster.a.replicator!.link('west')!;
    const before = link.updatesSent;
    east.doc.getText('title').insert(0, 'hello from east');
    await vi.waitFor(() => expect(text(west)).toBe('hello from east'), { timeout: 10_000 });
    west.doc.getText('title').insert(0, '> ');
    await vi.waitFor(() => expect(text(east)).toBe('> hello from east'), { timeout: 10_000 });
    // One client change crosses the link once (R − 1 = 1); nothing comes back.
    expect(link.updatesSent - before).toBe(1);
    expect(cluster.b.replicator!.link('east')!.updatesSent).toBe(1);
    // Stored in both regions, and the backlog drains to nothing.
    await vi.waitFor(async () => {
      const health = await (await fetch(`${cluster.a.url}/healthz`)).json();
      expect(health.peers[0]).toMatchObject({ region: 'west', state: 'up', backlog: { documents: 0 } });
    }, { timeout: 10_000 });
    // Two more catch-up passes run over the quiet link and send no update.
    const sentWhenQuiet = link.updatesSent;
    const passes = cluster.a.replicator!.passesCompleted.get('west') ?? 0;
    await vi.waitFor(() => expect(cluster.a.replicator!.passesCompleted.get('west')).toBeGreaterThanOrEqual(passes + 2), { timeout: 10_000 });
    expect(link.updatesSent).toBe(sentWhenQuiet);
  });

  it('keeps both regions writing through a partition and converges after it, documents nobody has open included', async () => {
    const cluster = await startRegions();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west')).toBe(true), { timeout: 10_000 });
    const shared = mintDocument();
    const east = client(cluster.a, shared.docId, shared.edit);
    const west = client(cluster.b, shared.docId, shared.edit);
    await Promise.all([east.synced, west.synced]);
    east.doc.getText('title').insert(0, 'base');
    await vi.waitFor(() => expect(text(west)).toBe('base'), { timeout: 10_000 });

    cluster.cut();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west') || linkUp(cluster.b, 'east')).toBe(false), { timeout: 10_000 });
    east.doc.getText('title').insert(4, ' east');
    west.doc.getText('title').insert(0, 'west ');
    // A document created and edited only during the partition, in east, then closed.
    const lonely = mintDocument();
    const writer = client(cluster.a, lonely.docId, lonely.edit);
    await writer.synced;
    writer.doc.getText('title').insert(0, 'written during the partition');
    await vi.waitFor(async () => {
      const stored = await cluster.a.store.load(lonely.docId);
      expect(stored.updates.length).toBeGreaterThan(0);
    });
    writer.destroy();
    // The other region never saw it.
    expect(text(west)).toBe('west base');

    cluster.heal();
    await vi.waitFor(() => expect(text(east)).toBe(text(west)), { timeout: 15_000 });
    expect(text(east)).toContain('east');
    expect(text(east)).toContain('west');
    await vi.waitFor(async () => {
      const doc = new Y.Doc();
      for (const u of (await cluster.b.store.load(lonely.docId)).updates) Y.applyUpdate(doc, u);
      expect(doc.getText('title').toString()).toBe('written during the partition');
    }, { timeout: 15_000 });
  });

  it('merges a rotation in one region and a deletion in the other made during a partition', async () => {
    const cluster = await startRegions();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const east = client(cluster.a, caps.docId, caps.edit);
    await east.synced;
    east.doc.getText('title').insert(0, 'soon gone');
    await vi.waitFor(async () => expect((await cluster.b.store.getDocument(caps.docId)) !== null).toBe(true), { timeout: 10_000 });
    east.destroy();

    cluster.cut();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west')).toBe(false), { timeout: 10_000 });
    const rotate = await fetch(`${cluster.a.url}/api/docs/${caps.docId}/rotate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${caps.owner}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ edit: true }),
    });
    expect(rotate.status).toBe(200);
    const remove = await fetch(`${cluster.b.url}/api/docs/${caps.docId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${caps.owner}` } });
    expect(remove.status).toBe(200);

    cluster.heal();
    await vi.waitFor(async () => {
      expect((await cluster.a.store.getDocument(caps.docId))?.access.deleted).toBe(true);
      expect((await cluster.b.store.getDocument(caps.docId))?.access).toMatchObject({ deleted: true, editEpoch: 1 });
    }, { timeout: 15_000 });
    // The rotated-away link is refused everywhere, and the document stays deleted when a client
    // that edited it offline comes back.
    for (const server of [cluster.a, cluster.b]) {
      const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
      expect((await raw.closed).code).toBe(CloseCode.forbidden);
      const rotated = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${rotatedCapability(caps.owner, 'edit', 1)}`);
      expect((await rotated.closed).code).toBe(CloseCode.documentDeleted);
    }
    expect((await cluster.a.store.load(caps.docId)).updates).toEqual([]);
  });

  it('refuses a region with the wrong cluster secret, which learns nothing about any document', async () => {
    const cluster = await startRegions('a-different-secret-that-is-also-long-enough');
    const caps = mintDocument();
    const east = client(cluster.a, caps.docId, caps.edit);
    await east.synced;
    east.doc.getText('title').insert(0, 'private');
    // Each side has been refused at least once and dialed again (its dialer only redials after a refusal).
    await vi.waitFor(() => expect(cluster.proxies.every((p) => p.connectionsAccepted >= 2)).toBe(true), { timeout: 15_000 });
    expect(linkUp(cluster.a, 'west')).toBe(false);
    expect(linkUp(cluster.b, 'east')).toBe(false);
    expect(await cluster.b.store.getDocument(caps.docId)).toBeNull();
  });
});
