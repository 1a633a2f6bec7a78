/**
 * Regions (issue #12): two or three leaders in one process, each with its own SQLite data
 * directory and clients, linked through TCP proxies the test cuts for real partitions. (Separate
 * processes with SIGKILLs: regions-fault.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument, rotatedCapability, sameAccess } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import WebSocket from 'ws';
import pino from 'pino';
import { runHandshake } from '../../server/replication/handshake';
import { wsLinkChannel } from '../../server/replication/wsLinkChannel';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { TempDirs } from '../support/tempDirs';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { MemoryStore } from '../../server/storage/MemoryStore';
import type { ReplicatorOptions } from '../../server/replication/Replicator';
import type { DocumentStore } from '../../server/storage/DocumentStore';

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
  /** Points the proxies leading to a region at its new port (after a restart). */
  retarget(region: 'a' | 'b', port: number): void;
}

/** Regions east (a) and west (b); `storeA` replaces a's SQLite directory (a store a test watches or breaks). */
async function startRegions(secretB = SECRET, dataDirs = [dirs.make('concord-region-a-'), dirs.make('concord-region-b-')], storeA?: DocumentStore): Promise<Cluster> {
  const ports = { a: 0, b: 0 };
  const toB = await startTcpProxy(() => ports.b);
  const toA = await startTcpProxy(() => ports.a);
  cleanups.push(() => toB.close(), () => toA.close());
  const options = (name: string, dataDir: string, peer: TcpProxy, secret: string, store?: DocumentStore) => ({
    port: 0,
    host: '127.0.0.1',
    ...(store ? { store } : { dataDir }),
    next: false as const,
    logLevel: 'silent',
    region: { region: name, peers: [new URL(peer.url)], secret, catchUpIntervalMs: 200 },
  });
  const a = await startServer(options('east', dataDirs[0]!, toB, SECRET, storeA));
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
    retarget: (region, port) => {
      ports[region] = port;
    },
  };
}

interface Mesh {
  servers: RunningServer[];
  /** Each region's replicator options, the very objects it reads (tests may change them live). */
  settings: ReplicatorOptions[];
  /** Every region's dialed link through its proxy (one per ordered pair). */
  proxies: TcpProxy[];
}

/** R regions, each dialing every other through its own proxy. */
async function startMesh(names: string[], extra: Partial<ReplicatorOptions> = {}): Promise<Mesh> {
  const ports = new Map<string, number>();
  const proxies: TcpProxy[] = [];
  const servers: RunningServer[] = [];
  const settings: ReplicatorOptions[] = [];
  for (const name of names) {
    const peers: URL[] = [];
    for (const other of names.filter((n) => n !== name)) {
      const proxy = await startTcpProxy(() => ports.get(other) ?? 1);
      cleanups.push(() => proxy.close());
      proxies.push(proxy);
      peers.push(new URL(proxy.url));
    }
    const region: ReplicatorOptions = { region: name, peers, secret: SECRET, catchUpIntervalMs: 200, ...extra };
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir: dirs.make(`concord-region-${name}-`),
      next: false,
      logLevel: 'silent',
      region,
    });
    ports.set(name, server.port);
    cleanups.push(() => server.close());
    servers.push(server);
    settings.push(region);
  }
  return { servers, settings, proxies };
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

  it('three regions: a client change crosses the links at most R − 1 times, and a quiet mesh sends no updates', async () => {
    const names = ['r1', 'r2', 'r3'];
    const { servers } = await startMesh(names);
    const links = () => servers.flatMap((s, i) => names.filter((n) => n !== names[i]).map((n) => s.replicator!.link(n)));
    await vi.waitFor(() => expect(links().every((l) => l?.isClosed === false)).toBe(true), { timeout: 15_000 });
    // The editor fails over in this order: this region, then PEERS order, however the links came up.
    servers.forEach((s, i) => expect(s.replicator!.regions().map((r) => r.name)).toEqual([names[i], ...names.filter((n) => n !== names[i])]));
    const caps = mintDocument();
    const clients = servers.map((s) => client(s, caps.docId, caps.edit));
    await Promise.all(clients.map((c) => c.synced));
    // Let the first-contact catch-up of an empty store settle, then count live traffic only.
    const updatesSent = () => links().reduce((sum, l) => sum + (l?.updatesSent ?? 0), 0);
    const changes = 30;
    const before = updatesSent();
    for (let i = 0; i < changes; i++) {
      const writer = clients[i % clients.length]!;
      writer.doc.getText('title').insert(0, `${i % 10}`);
      await vi.waitFor(() => expect(new Set(clients.map(text)).size).toBe(1), { timeout: 10_000 });
    }
    const live = updatesSent() - before;
    expect(live).toBeGreaterThanOrEqual(changes * (names.length - 1)); // every change reached every peer…
    expect(live).toBeLessThanOrEqual(changes * (names.length - 1)); // …once each: nothing echoes
    for (const server of servers) {
      await vi.waitFor(async () => {
        for (const status of await server.replicator!.status()) expect(status.backlog.documents).toBe(0);
      }, { timeout: 15_000 });
    }
    // Quiet: two more passes on every link, and not one update frame.
    const quiet = updatesSent();
    const passes = servers.map((s, i) => names.filter((n) => n !== names[i]).map((n) => s.replicator!.passesCompleted.get(n) ?? 0));
    await vi.waitFor(() => {
      servers.forEach((s, i) => names.filter((n) => n !== names[i]).forEach((n, j) => expect(s.replicator!.passesCompleted.get(n)).toBeGreaterThanOrEqual(passes[i]![j]! + 2)));
    }, { timeout: 15_000 });
    expect(updatesSent()).toBe(quiet);
  });

  it('keeps the lag honest while a document is edited without pause (the backlog mark keeps moving)', async () => {
    const cluster = await startRegions();
    await vi.waitFor(() => expect(linkUp(cluster.a, 'west')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const east = client(cluster.a, caps.docId, caps.edit);
    await east.synced;
    // Every confirmation finds the document changed again since it was listed (an edit lands
    // during each round trip), so the entry never empties: the worst case for the lag figure.
    const store = cluster.a.store;
    const clear = store.clearBacklog.bind(store);
    vi.spyOn(store, 'clearBacklog').mockImplementation(async (peer, docId, mark, confirmedAt) => {
      east.doc.getText('title').insert(0, 'x');
      await vi.waitFor(async () => expect((await store.listBacklog(peer, 10)).find((e) => e.docId === docId)?.mark).not.toBe(mark));
      return clear(peer, docId, mark, confirmedAt);
    });
    east.doc.getText('title').insert(0, 'first');
    await vi.waitFor(async () => expect((await store.backlogStats('west')).documents).toBe(1), { timeout: 10_000 });
    const firstDirty = (await store.backlogStats('west')).oldestSince!;
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(firstDirty));
    const t0 = Date.now();
    const passes = cluster.a.replicator!.passesCompleted.get('west') ?? 0;
    await vi.waitFor(() => expect(cluster.a.replicator!.passesCompleted.get('west')).toBeGreaterThanOrEqual(passes + 3), { timeout: 15_000 });
    const stats = await store.backlogStats('west');
    expect(stats.documents).toBe(1);
    // Everything before t0 is confirmed: the oldest unconfirmed change is newer than t0.
    expect(stats.oldestSince!).toBeGreaterThanOrEqual(t0);
  });

  it('remembers its peers across a restart: no full comparison, and changes made while down still arrive', async () => {
    const dataDirs = [dirs.make('concord-region-a-'), dirs.make('concord-region-b-')];
    const first = await startRegions(SECRET, dataDirs);
    await vi.waitFor(() => expect(linkUp(first.a, 'west')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const east = client(first.a, caps.docId, caps.edit);
    await east.synced;
    east.doc.getText('title').insert(0, 'before the restart');
    await vi.waitFor(async () => expect((await first.a.store.backlogStats('west')).documents).toBe(0), { timeout: 10_000 });
    east.destroy();
    // Stop west; east writes while it is down; west comes back on its own data.
    await first.b.close();
    const writer = client(first.a, caps.docId, caps.edit);
    await writer.synced;
    writer.doc.getText('title').insert(0, 'while west was down: ');
    await vi.waitFor(async () => expect((await first.a.store.backlogStats('west')).documents).toBe(1), { timeout: 10_000 });
    const store = new SqliteStore(dataDirs[1]!);
    const markAllDirty = vi.spyOn(store, 'markAllDirty');
    const b = await startServer({
      port: 0,
      host: '127.0.0.1',
      store,
      next: false,
      logLevel: 'silent',
      region: { region: 'west', peers: [new URL(first.proxies[0]!.url)], secret: SECRET, catchUpIntervalMs: 200 }, // proxies[0] leads to east
    });
    cleanups.push(() => b.close());
    first.retarget('b', b.port);
    await vi.waitFor(() => expect(linkUp(b, 'east')).toBe(true), { timeout: 15_000 });
    const reader = client(b, caps.docId, caps.edit);
    await vi.waitFor(() => expect(text(reader)).toBe('while west was down: before the restart'), { timeout: 15_000 });
    expect(markAllDirty).not.toHaveBeenCalled();
  });

  it('a congested link skips live sends and catch-up fills the gap, including updates that arrived after it', async () => {
    const { servers, settings } = await startMesh(['east', 'west']);
    const [a, b] = servers as [RunningServer, RunningServer];
    await vi.waitFor(() => expect(linkUp(a, 'west') && linkUp(b, 'east')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const east = client(a, caps.docId, caps.edit);
    const west = client(b, caps.docId, caps.edit);
    await Promise.all([east.synced, west.synced]);
    // Congested (any buffered amount is too much): east's first change is not sent live…
    settings[0]!.maxLiveBufferedBytes = -1;
    east.doc.getText('title').insert(0, 'one');
    await vi.waitFor(() => expect(a.replicator!.liveSkipped).toBe(1));
    // …the next one is, and it cannot integrate without the first: west keeps it waiting until
    // catch-up sends what it lacks.
    settings[0]!.maxLiveBufferedBytes = undefined;
    east.doc.getText('title').insert(3, ' two');
    await vi.waitFor(() => expect(text(west)).toBe('one two'), { timeout: 10_000 });
    expect(text(east)).toBe('one two');
  });

  it('heartbeats keep a quiet link\'s last contact fresh and drop a black-holed link', async () => {
    const heartbeatMs = 100;
    const { servers, proxies } = await startMesh(['east', 'west'], { heartbeatMs });
    const [a, b] = servers as [RunningServer, RunningServer];
    await vi.waitFor(() => expect(linkUp(a, 'west') && linkUp(b, 'east')).toBe(true), { timeout: 10_000 });
    const link = a.replicator!.link('west')!;
    const heardAt = link.lastContact;
    // Nothing to replicate, and still heard from: pongs count as contact.
    await vi.waitFor(() => expect(link.lastContact).toBeGreaterThan(heardAt + 2 * heartbeatMs), { timeout: 5_000 });
    expect(link.updatesSent).toBe(0);
    // Every byte now takes ten minutes to cross, and no connection closes: only the heartbeat can tell.
    for (const proxy of proxies) proxy.setDelay(600_000);
    await vi.waitFor(() => expect(link.isClosed).toBe(true), { timeout: 10_000 });
    expect(proxies.every((p) => !p.isCut)).toBe(true);
  });

  it('a region whose storage fails while marking a new peer drops the link, tries again and still rebuilds the peer', async () => {
    // East's storage fails the first full marking for a new peer (as a database blip would).
    class FlakyMarkingStore extends MemoryStore {
      failures = 1;
      override async markAllDirty(peer: string): Promise<number> {
        if (this.failures-- > 0) throw new Error('storage unavailable (simulated)');
        return super.markAllDirty(peer);
      }
    }
    const store = new FlakyMarkingStore();
    const caps = mintDocument();
    const before = new Y.Doc();
    before.getText('title').insert(0, 'written before the regions ever met');
    await store.append(caps.docId, [Y.encodeStateAsUpdate(before)]);
    const { a: east, b: west } = await startRegions(SECRET, undefined, store);
    await vi.waitFor(async () => {
      const doc = new Y.Doc();
      for (const u of (await west.store.load(caps.docId)).updates) Y.applyUpdate(doc, u);
      expect(doc.getText('title').toString()).toBe('written before the regions ever met');
    }, { timeout: 15_000 });
    expect(store.failures).toBeLessThan(0);
  });

  it('stores a rotation or deletion made here and its marks for the peer regions in one transaction', async () => {
    // Every access write of east's that changed the state, with the peers it marked in that same call.
    class RecordingStore extends MemoryStore {
      readonly accessWrites: { docId: string; dirtyFor: readonly string[] }[] = [];
      override async updateAccess(docId: string, change: Parameters<MemoryStore['updateAccess']>[1], options?: Parameters<MemoryStore['updateAccess']>[2]) {
        let changed = false;
        const result = await super.updateAccess(docId, (current) => {
          const next = change(current);
          changed = !sameAccess(current, next);
          return next;
        }, options);
        if (changed) this.accessWrites.push({ docId, dirtyFor: options?.dirtyFor ?? [] });
        return result;
      }
    }
    const store = new RecordingStore();
    const { a: east, b: west } = await startRegions(SECRET, undefined, store);
    await vi.waitFor(() => expect(linkUp(east, 'west')).toBe(true), { timeout: 10_000 });
    const caps = mintDocument();
    const writer = client(east, caps.docId, caps.edit);
    await writer.synced;
    writer.doc.getText('title').insert(0, 'x');
    await vi.waitFor(async () => expect((await west.store.getDocument(caps.docId)) !== null).toBe(true), { timeout: 10_000 });
    const headers = { Authorization: `Bearer ${caps.owner}`, 'Content-Type': 'application/json' };
    const writesBefore = store.accessWrites.length;
    expect((await fetch(`${east.url}/api/docs/${caps.docId}/rotate`, { method: 'POST', headers, body: JSON.stringify({ view: true }) })).status).toBe(200);
    expect((await fetch(`${east.url}/api/docs/${caps.docId}`, { method: 'DELETE', headers })).status).toBe(200);
    await vi.waitFor(async () => expect((await west.store.getDocument(caps.docId))?.access).toMatchObject({ deleted: true, viewEpoch: 1 }), { timeout: 10_000 });
    // Each change is one write that marks west; nothing is left to a second transaction.
    const ours = store.accessWrites.slice(writesBefore).filter((w) => w.docId === caps.docId);
    expect(ours).toEqual([
      { docId: caps.docId, dirtyFor: ['west'] },
      { docId: caps.docId, dirtyFor: ['west'] },
    ]);
  });

  it('stops without waiting for a peer still in its link handshake, even one that completes it meanwhile', { timeout: 20_000 }, async () => {
    // The handshake would time out only after ten minutes: close() must end the socket itself.
    const { servers } = await startMesh(['east'], { handshakeTimeoutMs: 600_000 });
    const east = servers[0]!;
    // A fake peer region that knows the secret and holds its proof back until east is closing.
    const socket = new WebSocket(`${east.wsUrl.replace(/\/ws$/, '')}/cluster/link`);
    const channel = wsLinkChannel(socket);
    const heldProof: Uint8Array[] = [];
    const gated = { ...channel, send: (frame: Uint8Array) => void heldProof.push(frame) };
    const handshake = runHandshake(gated, 'dialer', { region: 'west', secret: SECRET }, { log: pino({ level: 'silent' }), peerAddress: east.url });
    handshake.catch(() => undefined);
    await vi.waitFor(() => expect(heldProof).toHaveLength(1), { timeout: 10_000 });
    const socketClosed = new Promise<number>((resolve) => socket.once('close', resolve));
    const closing = east.close();
    // Completing the handshake now must not give the closing region a link it never closes.
    if (socket.readyState === WebSocket.OPEN) channel.send(heldProof[0]!);
    await closing;
    await expect(handshake).rejects.toThrow();
    expect(await socketClosed).not.toBe(CloseCode.linkHandshakeTimeout);
  });

  // Bounded by the test's own timeout: without the grace period ws waits 30 s for the close frame.
  it('stops without waiting for a black-holed peer to answer the link\'s close frame', { timeout: 20_000 }, async () => {
    const { servers, proxies } = await startMesh(['east', 'west'], { heartbeatMs: 60_000 });
    const [a, b] = servers as [RunningServer, RunningServer];
    await vi.waitFor(() => expect(linkUp(a, 'west') && linkUp(b, 'east')).toBe(true), { timeout: 10_000 });
    for (const proxy of proxies) proxy.setDelay(600_000);
    // Both: the region that accepted the link is the one waiting for an answer.
    const reports = await Promise.all([a.close(), b.close()]);
    expect(reports.map((r) => r.unstoredDocIds)).toEqual([[], []]);
    expect(proxies.every((p) => !p.isCut)).toBe(true);
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
