/**
 * One replication-lag run (issue #12): R regions (or one plain relay), the same document open
 * in every region by `clientsPerRegion` clients, the first `writersPerRegion` of each writing at
 * a fixed rate. For every operation, the time until each other client received it, split into
 * local (clients of the writer's region) and cross-region (clients of the other regions). Built
 * from the load benchmark's parts: BenchClient, runWriters, measureDeliveries, convergence.
 */
import { mintDocument } from '../../../lib/auth/capabilities';
import { checkConvergence, type ConvergenceResult, type Replica } from '../load/convergence';
import type { BenchDocument } from '../load/framing';
import { measureDeliveries, type Window } from '../load/latency';
import { cpuMillis, isAlive, peakRssBytes } from '../load/processStats';
import { percentile, Samples } from '../stats';
import { withTimeout } from '../waiting';
import { BenchRegions, type BenchRegion } from './BenchRegions';
import { ClientGroup, type RecordedClient } from './ClientGroup';

export interface RegionLagSpec {
  /** 1 = one plain relay (no REGION): the baseline. */
  regions: number;
  clientsPerRegion: number;
  writersPerRegion: number;
  /** Per writer. */
  opsPerSecond: number;
  /** One-way delay on every link (ms). */
  delayMs: number;
}

export interface RegionLagOptions {
  seconds: number;
  warmupSeconds: number;
  seed: number;
  log?: (line: string) => void;
}

export interface Spread {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
}

export interface RegionLagResult {
  /** Writer → other clients of its own region (ms). */
  local: Spread;
  /** Writer → clients of the other regions (ms); null with one region. */
  crossRegion: Spread | null;
  deliveriesPerSecond: number;
  expectedDeliveriesPerSecond: number;
  regions: { name: string; peakRss: number; cpuMsPerSecond: number }[];
  /** Processes the clients ran in (each region's clients in processes of their own, 20 per process). */
  loadGeneratorProcesses: number;
  /** CPU the client processes used together, per second of writing (warm-up included). */
  loadGeneratorCpuMsPerSecond: number;
  /**
   * The largest event-loop delay (p99, max; ms) of any client process while writing: a client's
   * arrival times are read on its process's loop, so a stall there shows as latency.
   */
  loadGeneratorLoopDelay: { p99: number; max: number };
  /** Largest lagSeconds and backlog any region reported of any peer during the window (sampled each second). */
  maxLagSeconds: number;
  maxBacklogDocuments: number;
  /** Writers stopped → every region's backlog empty (ms); null with one region. */
  backlogEmptyAfterMs: number | null;
  /**
   * Replication `update` messages and bytes the regions sent each other per operation, live and
   * catch-up together, read once every backlog was empty (the echo bound: at most R − 1
   * messages); null with one region.
   */
  linkUpdatesPerOperation: { messages: number; bytes: number } | null;
  convergence: ConvergenceResult;
  /** Warn-level region log lines from the writers' start on. */
  warnings: string[];
  /** Error-level region log lines, start-up included. */
  errors: string[];
}

const REGION_NAMES = ['a', 'b', 'c', 'd', 'e'];
const CONNECT_TIMEOUT_MS = 60_000;
const SETTLE_MS = 500;
const BACKLOG_TIMEOUT_MS = 30_000;
/** Clients per load-generator process: each region's clients have processes of their own. */
const CLIENTS_PER_PROCESS = 20;
const WRITERS_LEAD_MS = 200;

export async function runRegionLag(spec: RegionLagSpec, options: RegionLagOptions): Promise<RegionLagResult> {
  if (spec.regions < 1 || spec.regions > REGION_NAMES.length) throw new RangeError(`1 to ${REGION_NAMES.length} regions`);
  const log = options.log ?? (() => undefined);
  const names = REGION_NAMES.slice(0, spec.regions);
  const cluster = await BenchRegions.start({ names, linked: spec.regions > 1, delayMs: spec.delayMs });
  const groups: { region: BenchRegion; group: ClientGroup }[] = [];
  try {
    if (spec.regions > 1) await cluster.untilLinked();
    const caps = mintDocument();
    const doc: BenchDocument = { name: caps.docId, token: caps.edit };
    const plan = groupPlan(cluster.regions, spec);
    let firstClientIndex = 0;
    const started = await withTimeout(
      Promise.all(
        plan.map(({ region, clients, writers }, index) => {
          const groupSpec = { wsUrl: region.wsUrl, doc, clients, writers, opsPerSecond: spec.opsPerSecond, seed: options.seed * 1000 + index, slot: { index, of: plan.length }, firstClientIndex };
          firstClientIndex += clients;
          return ClientGroup.start(groupSpec).then(({ group }) => {
            groups.push({ region, group });
            return group;
          });
        }),
      ),
      CONNECT_TIMEOUT_MS,
      'clients to connect',
    );
    await sleep(SETTLE_MS);
    log(`${firstClientIndex} clients in ${started.length} process(es) connected to ${names.length} region(s), links ${spec.regions > 1 ? `up, ${spec.delayMs} ms one-way` : 'none'}`);

    // Start-up logs warnings by design (both sides dial, one of the two links is closed): count from here.
    const logsFrom = cluster.logMark();
    const sampler = new HealthSampler(cluster);
    const window = await writeThroughWindow(cluster, groups.map((g) => g.group), options, spec.regions > 1 ? sampler : null);
    const writersDone = performance.now();
    log(`writers done: ${window.operations} operations`);

    // Timed from now, while each group waits until nothing has arrived for a while and hands over its records.
    const backlogsEmpty = spec.regions > 1 ? untilBacklogsEmpty(cluster, writersDone) : Promise.resolve(null);
    backlogsEmpty.catch(() => undefined); // awaited below
    const collected = await Promise.all(groups.map(async ({ region, group }) => ({ region, clients: await group.collect() })));
    const clients = new Map<BenchRegion, RecordedClient[]>(cluster.regions.map((r) => [r, []]));
    for (const { region, clients: list } of collected) clients.get(region)!.push(...list);
    const all = [...clients.values()].flat();
    const writers = all.filter((c) => c.isWriter);
    const expected = new Map<number, number>(writers.map((w) => [w.clientId, w.appliedAt.length]));
    const replicas: Replica[] = [];
    const writerLabels = new Map<number, string>();
    for (const [region, list] of clients) {
      list.forEach((c, i) => {
        replicas.push({ label: `region ${region.name} client ${i} (${c.isWriter ? 'writer' : 'reader'})`, documentName: doc.name, doc: c.materialize() });
        if (c.isWriter) writerLabels.set(c.clientId, `region ${region.name} writer ${i}`);
      });
    }
    const backlogEmptyAfterMs = await backlogsEmpty;
    const linkUpdatesPerOperation = spec.regions > 1 ? await updatesPerOperation(cluster, window.operations) : null;
    const convergence = checkConvergence(replicas, new Map([[doc.name, expected]]), writerLabels);
    noteTrouble(convergence, cluster, all);

    const { local, crossRegion, inWindow } = splitLatencies(clients, window);
    const seconds = (window.end - window.start) / 1000;
    const { warnings } = cluster.logLines(logsFrom);
    const { errors } = cluster.logLines();
    const clientsTotal = spec.regions * spec.clientsPerRegion;
    return {
      local: spread(local),
      crossRegion: spec.regions > 1 ? spread(crossRegion) : null,
      deliveriesPerSecond: inWindow / seconds,
      expectedDeliveriesPerSecond: spec.regions * spec.writersPerRegion * spec.opsPerSecond * (clientsTotal - 1),
      regions: cluster.regions.map((r) => ({ name: r.name, peakRss: peakRssBytes(r.pid), cpuMsPerSecond: window.cpuMs.get(r.name)! / seconds })),
      loadGeneratorProcesses: groups.length,
      loadGeneratorCpuMsPerSecond: window.clientCpuMsPerSecond,
      loadGeneratorLoopDelay: window.clientLoopDelay,
      maxLagSeconds: sampler.maxLagSeconds,
      maxBacklogDocuments: sampler.maxBacklogDocuments,
      backlogEmptyAfterMs,
      linkUpdatesPerOperation,
      convergence,
      warnings,
      errors,
    };
  } finally {
    await Promise.all(groups.map(({ group }) => group.close()));
    await cluster.close();
  }
}

/**
 * Client processes: every region's clients in groups of at most CLIENTS_PER_PROCESS, each group
 * with its share of the region's writers.
 */
function groupPlan(regions: readonly BenchRegion[], spec: RegionLagSpec): { region: BenchRegion; clients: number; writers: number }[] {
  const plan: { region: BenchRegion; clients: number; writers: number }[] = [];
  const count = Math.ceil(spec.clientsPerRegion / CLIENTS_PER_PROCESS);
  for (const region of regions) {
    for (let g = 0; g < count; g++) {
      const share = (total: number) => Math.floor((total * (g + 1)) / count) - Math.floor((total * g) / count);
      plan.push({ region, clients: share(spec.clientsPerRegion), writers: share(spec.writersPerRegion) });
    }
  }
  return plan;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function spread(samples: Samples): Spread {
  const sorted = samples.sorted();
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    samples: sorted.length,
  };
}

/** Per region: its clients against its own writers (local) and against every other region's (cross-region). */
function splitLatencies(clients: Map<BenchRegion, RecordedClient[]>, window: Window): { local: Samples; crossRegion: Samples; inWindow: number } {
  const local = new Samples();
  const crossRegion = new Samples();
  let inWindow = 0;
  const byId = (list: RecordedClient[]) => new Map(list.filter((c) => c.isWriter).map((w) => [w.clientId, w]));
  for (const [region, observers] of clients) {
    const others = [...clients].filter(([r]) => r !== region).flatMap(([, list]) => list);
    for (const [into, writers] of [
      [local, byId(observers)],
      [crossRegion, byId(others)],
    ] as const) {
      const deliveries = measureDeliveries(observers, writers, window);
      for (const value of deliveries.latencies.sorted()) into.push(value);
      inWindow += deliveries.inWindow;
    }
  }
  return { local, crossRegion, inWindow };
}

interface MeasuredWindow extends Window {
  /** CPU time each region's process used during the window. */
  cpuMs: Map<string, number>;
  /** The client processes together: CPU per second while their writers wrote (warm-up included). */
  clientCpuMsPerSecond: number;
  /** The largest event-loop delay p99 and max of any client process while writing (ms). */
  clientLoopDelay: { p99: number; max: number };
  operations: number;
}

/** Writers write through the warm-up and the window; each region's CPU is read when it opens and closes. */
async function writeThroughWindow(cluster: BenchRegions, groups: ClientGroup[], options: RegionLagOptions, sampler: HealthSampler | null): Promise<MeasuredWindow> {
  // A moment ahead, so every group's writers start together.
  const startAt = performance.now() + WRITERS_LEAD_MS;
  const opensAt = startAt + options.warmupSeconds * 1000;
  const closesAt = opensAt + options.seconds * 1000;
  const readCpuAt = (at: number) =>
    new Promise<{ at: number; cpu: Map<string, number> }>((resolve) =>
      setTimeout(
        // A region that died has no /proc entry: NaN here, and the run fails on it (noteTrouble), not the benchmark.
        () => resolve({ at: performance.now(), cpu: new Map(cluster.regions.map((r) => [r.name, isAlive(r.pid) ? cpuMillis(r.pid) : Number.NaN])) }),
        Math.max(0, at - performance.now()),
      ),
    );
  sampler?.start();
  try {
    const [written, opened, closed] = await Promise.all([Promise.all(groups.map((g) => g.write(startAt, closesAt))), readCpuAt(opensAt), readCpuAt(closesAt)]);
    const writingSeconds = (closesAt - startAt) / 1000;
    return {
      start: opened.at,
      end: closed.at,
      cpuMs: new Map([...closed.cpu].map(([name, ms]) => [name, ms - opened.cpu.get(name)!])),
      clientCpuMsPerSecond: written.reduce((sum, w) => sum + w.cpuMs, 0) / writingSeconds,
      clientLoopDelay: { p99: Math.max(...written.map((w) => w.loopDelay.p99)), max: Math.max(...written.map((w) => w.loopDelay.max)) },
      operations: written.reduce((sum, w) => sum + w.operations, 0),
    };
  } finally {
    await sampler?.stop();
  }
}

/** Reads every region's /healthz once a second and keeps the largest lag and backlog seen. */
class HealthSampler {
  maxLagSeconds = 0;
  maxBacklogDocuments = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  constructor(private readonly cluster: BenchRegions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.inFlight = this.sample().catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      });
    }, 1_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
    if (this.failure) throw new Error(`reading /healthz during the run failed: ${this.failure.message}`);
  }

  private async sample(): Promise<void> {
    for (const region of this.cluster.regions) {
      for (const peer of (await this.cluster.health(region.name)).peers) {
        this.maxLagSeconds = Math.max(this.maxLagSeconds, peer.lagSeconds);
        this.maxBacklogDocuments = Math.max(this.maxBacklogDocuments, peer.backlog.documents);
      }
    }
  }
}

/** Time from `since` until no region has a backlog for any peer (catch-up confirmed everything). */
async function untilBacklogsEmpty(cluster: BenchRegions, since: number): Promise<number> {
  await cluster.until('every backlog to empty after the writers stopped', BACKLOG_TIMEOUT_MS, async () => {
    for (const region of cluster.regions) {
      if ((await cluster.health(region.name)).peers.some((p) => p.backlog.documents > 0)) return false;
    }
    return true;
  });
  return performance.now() - since;
}

async function updatesPerOperation(cluster: BenchRegions, operations: number): Promise<{ messages: number; bytes: number }> {
  const sent = await Promise.all(cluster.regions.map((r) => cluster.updatesSent(r.name)));
  return {
    messages: sent.reduce((sum, s) => sum + s.messages, 0) / operations,
    bytes: sent.reduce((sum, s) => sum + s.bytes, 0) / operations,
  };
}

/** A region that died, closed clients or logged errors fails the run, whatever the replicas say. */
function noteTrouble(convergence: ConvergenceResult, cluster: BenchRegions, clients: RecordedClient[]): void {
  const closed = clients.filter((c) => c.closedAfterReady !== null);
  if (closed.length) {
    convergence.passed = false;
    convergence.problems.unshift(`the relays closed ${closed.length} client(s) during the run (codes ${[...new Set(closed.map((c) => c.closedAfterReady))].join(', ')})`);
  }
  for (const region of cluster.regions) {
    if (!isAlive(region.pid)) {
      convergence.passed = false;
      convergence.problems.unshift(`region ${region.name} died during the run`);
    }
  }
}
