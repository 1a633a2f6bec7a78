/**
 * Regions under faults (issue #12, "Tests"): three regions as separate server processes on
 * loopback, each with its own data directory and its own clients. The links between regions run
 * through TCP proxies, so a cut is a real broken connection. A seeded schedule cuts links,
 * isolates regions and SIGKILLs them while every region keeps taking writes; then everything
 * heals. A set checker (tests/support/setChecker.ts, after Jepsen's) then demands that every
 * write a region acknowledged as stored is in every region's storage (read from disk), every
 * live client and a fresh client of every region, and that all of them agree on state vector,
 * digest and content. Replay a run with FAULT_SEED=<seed printed in the log>.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { BODY_FRAGMENT, TITLE_TEXT } from '../../lib/documents/dataModel';
import { documentDigest } from '../../lib/protocol/documentDigest';
import { SqliteStore } from '../../server/storage/SqliteStore';
import { describeFault, faultSchedule, faultSeed, type Fault, type FaultKind } from '../support/faultSchedule';
import { seededRandom } from '../support/fuzzFrames';
import { LOG_LEVEL, RegionCluster } from '../support/regionProcesses';
import { checkSet, disagreements, percentile, visibilityDelays, WriteHistory, type ReplicaContents, type ReplicaState } from '../support/setChecker';
import { TempDirs } from '../support/tempDirs';
import { TOKENS_ARRAY, TokenClient } from '../support/tokenClient';

const REGIONS = ['r1', 'r2', 'r3'] as const;
const DOCUMENTS = 3;
/** One write every 70 ms across all regions: about 14 writes a second. */
const WRITE_INTERVAL_MS = 70;
/** Link state changes, restarts and convergence are polled, never slept on; these are ceilings. */
const LINK_TIMEOUT_MS = 20_000;
const CONVERGENCE_TIMEOUT_MS = 60_000;

const dirs = new TempDirs();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

async function startCluster(): Promise<RegionCluster> {
  const cluster = await RegionCluster.start({ names: REGIONS, dirs });
  cleanups.push(() => cluster.close());
  await untilLinks(cluster, 'up', allPairs());
  return cluster;
}

function allPairs(): [string, string][] {
  return REGIONS.flatMap((a) => REGIONS.filter((b) => a < b).map((b): [string, string] => [a, b]));
}

/**
 * Waits until both ends of every pair report the link `state` in /healthz (a region that is down
 * reports nothing). Returns how many ends it saw in that state.
 */
async function untilLinks(cluster: RegionCluster, state: 'up' | 'down', pairs: [string, string][]): Promise<number> {
  let seen = 0;
  await vi.waitFor(
    async () => {
      seen = 0;
      for (const [a, b] of pairs) {
        for (const [from, to] of [[a, b], [b, a]] as const) {
          if (!cluster.region(from).process) continue;
          expect(await cluster.linkUp(from, to), `${from} → ${to}`).toBe(state === 'up');
          seen++;
        }
      }
    },
    { timeout: LINK_TIMEOUT_MS, interval: 100 },
  );
  return seen;
}

/** Every link up, and no region owes any peer a document (/healthz backlog). */
async function quiet(cluster: RegionCluster): Promise<void> {
  for (const name of REGIONS) {
    for (const peer of await cluster.peers(name)) {
      expect(peer, `${name}'s peer ${peer.region}`).toMatchObject({ state: 'up', backlog: { documents: 0 } });
    }
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** What the checker needs of one replica of one document. */
function view(replica: string, docId: string, doc: Y.Doc): ReplicaContents & ReplicaState {
  const tokens = doc.getArray<string>(TOKENS_ARRAY).toArray();
  return {
    replica,
    docId,
    tokens,
    stateVector: hex(Y.encodeStateVector(doc)),
    digest: hex(documentDigest(doc)),
    content: JSON.stringify({ tokens, title: doc.getText(TITLE_TEXT).toString(), body: doc.getXmlFragment(BODY_FRAGMENT).toString() }),
  };
}

/** Reads a stopped region's SQLite file: what it really has on disk. */
async function storedViews(cluster: RegionCluster, name: string, docs: readonly DocumentCapabilities[]) {
  const store = new SqliteStore(cluster.region(name).dataDir);
  try {
    return await Promise.all(
      docs.map(async ({ docId }) => {
        const doc = new Y.Doc();
        for (const update of (await store.load(docId)).updates) Y.applyUpdate(doc, update);
        const info = await store.getDocument(docId);
        return { ...view(`${name} storage`, docId, doc), registered: info !== null, access: JSON.stringify(info?.access ?? null) };
      }),
    );
  } finally {
    await store.close();
  }
}

/** A new client of every region for every document, straight to the region's port, once synced. */
async function freshViews(cluster: RegionCluster, docs: readonly DocumentCapabilities[], history: WriteHistory) {
  const clients = REGIONS.flatMap((region) =>
    docs.map((caps) => new TokenClient({ region, wsUrl: cluster.region(region).process!.wsUrl, docId: caps.docId, token: caps.view, history })),
  );
  try {
    await Promise.all(clients.map((c) => c.synced));
    return clients.map((c) => view(`${c.region} fresh client`, c.docId, c.doc));
  } finally {
    for (const c of clients) c.destroy();
  }
}

/** Resolves true once `assertion` passes, false if it still fails at the deadline (the checker then says why). */
function eventually(assertion: () => Promise<void> | void, timeout: number): Promise<boolean> {
  return vi.waitFor(assertion, { timeout, interval: 250 }).then(
    () => true,
    () => false,
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients writing tokens into every document of every region, and the ones abandoned on a kill. */
class Workload {
  readonly history = new WriteHistory();
  /** region → one client per document; null while a replaced client waits for its region. */
  private readonly clients = new Map<string, (TokenClient | null)[]>();
  /** Tokens whose client was abandoned before its region acked them: they may be lost. */
  readonly abandoned = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private written = 0;

  constructor(
    private readonly cluster: RegionCluster,
    private readonly docs: readonly DocumentCapabilities[],
    private readonly random: () => number,
  ) {
    for (const region of REGIONS) this.clients.set(region, docs.map((_, i) => this.connect(region, i)));
  }

  live(): TokenClient[] {
    return Array.from(this.clients.values()).flatMap((list) => list.filter((c): c is TokenClient => c !== null));
  }

  start(): void {
    this.timer = setInterval(() => this.writeOne(), WRITE_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * After a SIGKILL: the first document's client stays and reconnects when the region returns
   * (it keeps its unsaved writes and sends them again); the others are dropped as a crashed
   * client would be, so only storage and the peers can bring their acknowledged writes back.
   */
  abandonAfterKill(region: string): void {
    const list = this.clients.get(region)!;
    for (let i = 1; i < list.length; i++) {
      const client = list[i];
      if (!client) continue;
      for (const token of client.pendingTokens()) this.abandoned.add(token);
      client.destroy();
      list[i] = null;
    }
  }

  replaceAbandoned(region: string): void {
    const list = this.clients.get(region)!;
    list.forEach((client, i) => {
      if (client === null) list[i] = this.connect(region, i);
    });
  }

  destroy(): void {
    this.stop();
    for (const c of this.live()) c.destroy();
  }

  private connect(region: string, doc: number): TokenClient {
    const caps = this.docs[doc]!;
    return new TokenClient({ region, wsUrl: this.cluster.region(region).wsUrl, docId: caps.docId, token: caps.edit, history: this.history });
  }

  private writeOne(): void {
    const region = REGIONS[Math.floor(this.random() * REGIONS.length)]!;
    const doc = Math.floor(this.random() * this.docs.length);
    const client = this.clients.get(region)![doc];
    if (!client) return;
    client.write(`${region}-d${doc}-w${++this.written}`);
  }
}

/** Applies one fault and holds it while the workload writes, then heals it. Returns the link downs /healthz showed. */
async function applyFault(cluster: RegionCluster, workload: Workload, fault: Fault): Promise<number> {
  switch (fault.kind) {
    case 'cut-link': {
      cluster.cutLink(...fault.regions);
      const downs = await untilLinks(cluster, 'down', [fault.regions]);
      await pause(fault.holdMs);
      cluster.healLink(...fault.regions);
      return downs;
    }
    case 'isolate': {
      const downs = await isolate(cluster, fault.region);
      await pause(fault.holdMs);
      for (const peer of cluster.peersOf(fault.region)) cluster.healLink(fault.region, peer);
      return downs;
    }
    case 'kill':
      return killAndRestart(cluster, workload, fault.region, fault.holdMs);
    case 'isolate+kill': {
      // Writes acked in isolation exist only on this region's disk (and in its durable backlog)
      // when it dies; nothing else can bring them to the peers.
      let downs = await isolate(cluster, fault.region);
      await pause(fault.holdMs / 2);
      downs += await killAndRestart(cluster, workload, fault.region, 300);
      await pause(fault.holdMs / 2);
      for (const peer of cluster.peersOf(fault.region)) cluster.healLink(fault.region, peer);
      return downs;
    }
  }
}

async function isolate(cluster: RegionCluster, region: string): Promise<number> {
  cluster.isolate(region);
  return untilLinks(cluster, 'down', cluster.peersOf(region).map((peer): [string, string] => [region, peer]));
}

async function killAndRestart(cluster: RegionCluster, workload: Workload, region: string, downMs: number): Promise<number> {
  const status = await cluster.kill(region);
  expect(status.signal).toBe('SIGKILL');
  workload.abandonAfterKill(region);
  // The peers see the link drop (unless it was cut already, which they saw before).
  const downs = await untilLinks(cluster, 'down', cluster.peersOf(region).map((peer): [string, string] => [region, peer]));
  await pause(downMs);
  await cluster.restart(region);
  workload.replaceAbandoned(region);
  return downs;
}

describe('three regions under faults', () => {
  it('loses no acknowledged write through cut links, isolation and SIGKILLs, and every region ends identical', { timeout: 180_000 }, async () => {
    const seed = faultSeed();
    const schedule = faultSchedule(seed, REGIONS);
    console.log(`regions fault test: FAULT_SEED=${seed}; ${schedule.map(describeFault).join(', ')}`);
    const began = Date.now();
    const cluster = await startCluster();
    const docs = Array.from({ length: DOCUMENTS }, () => mintDocument());
    const workload = new Workload(cluster, docs, seededRandom(seed + 1));
    cleanups.push(() => workload.destroy());
    await Promise.all(workload.live().map((c) => c.synced));
    const acceptedBefore = cluster.allLinkProxies().reduce((n, p) => n + p.connectionsAccepted, 0);

    workload.start();
    const applied = new Map<FaultKind, number>();
    let linkDownsSeen = 0;
    const faultWindows: { from: number; to: number }[] = [];
    for (const fault of schedule) {
      const from = Date.now();
      linkDownsSeen += await applyFault(cluster, workload, fault);
      faultWindows.push({ from, to: Date.now() });
      applied.set(fault.kind, (applied.get(fault.kind) ?? 0) + 1);
      await pause(fault.gapMs);
    }
    workload.stop();
    cluster.healAllLinks();
    const healedAt = Date.now();

    // Converged: every link up, no backlog, every live client's write acked (the abandoned ones
    // may never be), and every live client of a document in the same state.
    const converged = await eventually(async () => {
      await quiet(cluster);
      const unacked = workload.history.all().filter((w) => w.ackedAt === null && !workload.abandoned.has(w.token));
      expect(unacked.map((w) => w.token)).toEqual([]);
      expect(disagreements(workload.live().map((c) => view(`${c.region} client`, c.docId, c.doc)))).toEqual([]);
    }, CONVERGENCE_TIMEOUT_MS);
    const convergedAfter = Date.now();

    const clientViews = workload.live().map((c) => view(`${c.region} client`, c.docId, c.doc));
    const fresh = await freshViews(cluster, docs, new WriteHistory());
    await cluster.stopAll('SIGTERM');
    const stored = (await Promise.all(REGIONS.map((name) => storedViews(cluster, name, docs)))).flat();
    const replicas = [...clientViews, ...fresh, ...stored];
    const check = checkSet(workload.history, replicas);
    const split = disagreements(replicas);

    const delays = visibilityDelays(workload.history, REGIONS);
    const duringFault = (at: number) => faultWindows.some((w) => at >= w.from && at <= w.to);
    const healthyDelays = visibilityDelays(workload.history, REGIONS, (write) => !duringFault(write.sentAt));
    const spread = (values: number[]) =>
      values.length === 0 ? 'no write was seen everywhere' : `${percentile(values, 50)} / ${percentile(values, 99)} / ${Math.max(...values)} (${values.length} writes)`;
    const kills = REGIONS.reduce((n, name) => n + cluster.region(name).kills, 0);
    const acceptedAfter = cluster.allLinkProxies().reduce((n, p) => n + p.connectionsAccepted, 0);
    const errors = cluster.errorLogs();
    const warnings = new Map<string, number>();
    for (const { entry } of cluster.logsAtLeast(LOG_LEVEL.warn)) {
      if (entry.level === LOG_LEVEL.warn) warnings.set(String(entry.msg), (warnings.get(String(entry.msg)) ?? 0) + 1);
    }
    console.table({
      'FAULT_SEED': seed,
      'faults applied': Array.from(applied, ([kind, n]) => `${kind} ×${n}`).join(', '),
      'SIGKILLs (exit on SIGKILL)': kills,
      'link downs seen in /healthz': linkDownsSeen,
      'link proxy connections (before → after)': `${acceptedBefore} → ${acceptedAfter}`,
      'writes attempted / acked': `${check.counts.attempted} / ${check.counts.acknowledged}`,
      'unacked writes present / lost': `${check.counts.unacknowledgedPresent} / ${check.counts.unacknowledgedLost}`,
      'replicas checked': replicas.length,
      'visible everywhere, p50 / p99 / max (ms)': spread(delays),
      '… of writes sent between faults (links may still redial)': spread(healthyDelays),
      'converged after healing (ms)': converged ? convergedAfter - healedAt : 'no',
      'error-level log lines': errors.length,
      'warn-level log lines': Array.from(warnings, ([msg, n]) => `${n}× ${msg}`).join('; ') || 0,
      'run time (s)': ((Date.now() - began) / 1000).toFixed(1),
    });
    for (const { region, lifetime, entry } of errors) console.log(`error log, ${region} (process ${lifetime}): ${JSON.stringify(entry)}`);

    expect(check.ok, check.message).toBe(true);
    expect(split, split.join('\n')).toEqual([]);
    expect(converged, 'live clients and regions did not converge (see above)').toBe(true);
    expect(stored.every((s) => s.registered)).toBe(true);
    expect(errors.map(({ region, entry }) => `${region}: ${String(entry.msg)}`)).toEqual([]);
    // The faults were real.
    expect(kills).toBe(schedule.filter((f) => f.kind === 'kill' || f.kind === 'isolate+kill').length);
    expect(acceptedAfter - acceptedBefore).toBeGreaterThanOrEqual(schedule.length);
    expect(check.counts.acknowledged).toBeGreaterThan(schedule.length * 10);
  });

  it('rebuilds a region restarted with an empty data directory from its peers, a document nobody has open included', { timeout: 90_000 }, async () => {
    const cluster = await startCluster();
    const docs = Array.from({ length: 3 }, () => mintDocument());
    const history = new WriteHistory();
    // One document written in each region; r3's writer leaves, so nobody has that one open.
    const writers = REGIONS.map((region, i) => new TokenClient({ region, wsUrl: cluster.region(region).wsUrl, docId: docs[i]!.docId, token: docs[i]!.edit, history }));
    cleanups.push(() => writers.forEach((w) => w.destroy()));
    await Promise.all(writers.map((w) => w.synced));
    for (let n = 0; n < 20; n++) for (const w of writers) w.write(`${w.region}-w${n}`);
    await vi.waitFor(() => expect(history.acknowledged().length).toBe(history.all().length), { timeout: LINK_TIMEOUT_MS });
    writers[2]!.destroy();
    await vi.waitFor(() => quiet(cluster), { timeout: CONVERGENCE_TIMEOUT_MS, interval: 250 });

    await cluster.kill('r3');
    const { dataDir } = cluster.region('r3');
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir);
    await cluster.restart('r3');
    // Its peers meet a new storage id, mark everything dirty for it and send it all; done when
    // every link is up and no region owes another anything.
    await untilLinks(cluster, 'up', allPairs());
    const rebuilt = await eventually(() => quiet(cluster), CONVERGENCE_TIMEOUT_MS);

    await cluster.stopAll('SIGTERM');
    const stored = (await Promise.all(REGIONS.map((name) => storedViews(cluster, name, docs)))).flat();
    const check = checkSet(history, stored);
    const split = disagreements(stored);
    expect(check.ok, check.message).toBe(true);
    expect(split, split.join('\n')).toEqual([]);
    expect(stored.filter((s) => !s.registered).map((s) => `${s.replica}: ${s.docId}`)).toEqual([]);
    expect(new Set(stored.map((s) => `${s.docId} ${s.access}`)).size).toBe(docs.length);
    expect(rebuilt, 'the backlog toward the rebuilt region never drained').toBe(true);
    expect(cluster.errorLogs()).toEqual([]);
  });
});
