/**
 * One replication-lag run (issue #12): R regions (or one plain relay), the same document open
 * in every region by `clientsPerRegion` clients, the first `writersPerRegion` of each writing at
 * a fixed rate. For every operation, the time until each other client received it, split into
 * local (clients of the writer's region) and cross-region (clients of the other regions). Built
 * from the load benchmark's parts: BenchClient, runWriters, measureDeliveries, convergence.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mintDocument } from '../../../lib/auth/capabilities';
import { seededRandom } from '../../support/fuzzFrames';
import { BenchClient } from '../load/BenchClient';
import { checkConvergence, holdsExactly, type ConvergenceResult, type Replica } from '../load/convergence';
import { yWebsocketFraming, type BenchDocument } from '../load/framing';
import { measureDeliveries, type Window } from '../load/latency';
import { cpuMillis, isAlive, peakRssBytes } from '../load/processStats';
import { runWriters } from '../load/writers';
import { percentile, Samples } from '../stats';
import { withTimeout } from '../waiting';
import { BenchRegions, clientHeaders, type BenchRegion } from './BenchRegions';

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
  /** CPU the benchmark process itself (the clients) used per second of the window. */
  loadGeneratorCpuMsPerSecond: number;
  /**
   * The load generator's own event-loop delay over warm-up and window (ms): every client's
   * arrival time is read on this one loop, so a stall here shows as latency of every delivery.
   */
  loadGeneratorLoopDelay: { p99: number; max: number };
  /** Largest lagSeconds and backlog any region reported of any peer during the window (sampled each second). */
  maxLagSeconds: number;
  maxBacklogDocuments: number;
  /** Writers stopped → every region's backlog empty (ms); null with one region. */
  backlogEmptyAfterMs: number | null;
  convergence: ConvergenceResult;
  /** Warn-level region log lines from the writers' start on. */
  warnings: string[];
  /** Error-level region log lines, start-up included. */
  errors: string[];
}

const REGION_NAMES = ['a', 'b', 'c', 'd', 'e'];
const CONNECT_TIMEOUT_MS = 60_000;
const SETTLE_MS = 500;
const DRAIN_QUIET_MS = 3_000;
const DRAIN_MAX_MS = 30_000;
const BACKLOG_TIMEOUT_MS = 30_000;
const LOOP_DELAY_RESOLUTION_MS = 5;

export async function runRegionLag(spec: RegionLagSpec, options: RegionLagOptions): Promise<RegionLagResult> {
  if (spec.regions < 1 || spec.regions > REGION_NAMES.length) throw new RangeError(`1 to ${REGION_NAMES.length} regions`);
  const log = options.log ?? (() => undefined);
  const names = REGION_NAMES.slice(0, spec.regions);
  const cluster = await BenchRegions.start({ names, linked: spec.regions > 1, delayMs: spec.delayMs });
  const clients = new Map<BenchRegion, BenchClient[]>();
  const activity = { lastFrameAt: performance.now() };
  try {
    if (spec.regions > 1) await cluster.untilLinked();
    const caps = mintDocument();
    const doc: BenchDocument = { name: caps.docId, token: caps.edit };
    let n = 0;
    for (const region of cluster.regions) {
      const framing = yWebsocketFraming((d) => `${region.wsUrl}/${d.name}?token=${d.token}`);
      clients.set(
        region,
        Array.from(
          { length: spec.clientsPerRegion },
          (_, i) => new BenchClient({ framing, doc, writer: i < spec.writersPerRegion, headers: clientHeaders(n++), onFrame: () => (activity.lastFrameAt = performance.now()) }),
        ),
      );
    }
    const all = [...clients.values()].flat();
    await withTimeout(Promise.all(all.map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
    await sleep(SETTLE_MS);
    log(`${all.length} clients connected to ${names.length} region(s), links ${spec.regions > 1 ? `up, ${spec.delayMs} ms one-way` : 'none'}`);

    // Start-up logs warnings by design (both sides dial, one of the two links is closed): count from here.
    const logsFrom = cluster.logMark();
    const writers = all.filter((c) => c.isWriter);
    const sampler = new HealthSampler(cluster);
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    loopDelay.enable();
    const window = await writeThroughWindow(cluster, writers, spec, options, sampler);
    loopDelay.disable();
    const writersDone = performance.now();
    log(`writers done: ${writers.reduce((sum, w) => sum + w.appliedAt.length, 0)} operations`);

    const expected = new Map<number, number>(writers.map((w) => [w.clientId, w.appliedAt.length]));
    const replicas: Replica[] = [];
    for (const [region, list] of clients) {
      list.forEach((c, i) => replicas.push({ label: `region ${region.name} client ${i} (${c.isWriter ? 'writer' : 'reader'})`, documentName: doc.name, doc: c.materialize() }));
    }
    await drain(replicas, expected, activity);
    const backlogEmptyAfterMs = spec.regions > 1 ? await untilBacklogsEmpty(cluster, writersDone) : null;

    const writerLabels = new Map<number, string>();
    for (const [region, list] of clients) list.forEach((c, i) => c.isWriter && writerLabels.set(c.clientId, `region ${region.name} writer ${i}`));
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
      loadGeneratorCpuMsPerSecond: window.ownCpuMs / seconds,
      // The histogram records whole intervals between its timer's runs: less the resolution, that is delay.
      loadGeneratorLoopDelay: {
        p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS),
        max: Math.max(0, loopDelay.max / 1e6 - LOOP_DELAY_RESOLUTION_MS),
      },
      maxLagSeconds: sampler.maxLagSeconds,
      maxBacklogDocuments: sampler.maxBacklogDocuments,
      backlogEmptyAfterMs,
      convergence,
      warnings,
      errors,
    };
  } finally {
    for (const c of [...clients.values()].flat()) c.close();
    await cluster.close();
  }
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
function splitLatencies(clients: Map<BenchRegion, BenchClient[]>, window: Window): { local: Samples; crossRegion: Samples; inWindow: number } {
  const local = new Samples();
  const crossRegion = new Samples();
  let inWindow = 0;
  const byId = (list: BenchClient[]) => new Map(list.filter((c) => c.isWriter).map((w) => [w.clientId, w]));
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
  /** CPU time this process (the load generator) used during the window. */
  ownCpuMs: number;
}

/** Writers write through the warm-up and the window; each region's CPU is read when it opens and closes. */
async function writeThroughWindow(
  cluster: BenchRegions,
  writers: BenchClient[],
  spec: RegionLagSpec,
  options: RegionLagOptions,
  sampler: HealthSampler,
): Promise<MeasuredWindow> {
  const opensAt = performance.now() + options.warmupSeconds * 1000;
  const closesAt = opensAt + options.seconds * 1000;
  const ownCpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const readCpuAt = (at: number) =>
    new Promise<{ at: number; cpu: Map<string, number>; own: number }>((resolve) =>
      setTimeout(
        // A region that died has no /proc entry: NaN here, and the run fails on it (noteTrouble), not the benchmark.
        () => resolve({ at: performance.now(), cpu: new Map(cluster.regions.map((r) => [r.name, isAlive(r.pid) ? cpuMillis(r.pid) : Number.NaN])), own: ownCpuMs() }),
        Math.max(0, at - performance.now()),
      ),
    );
  if (spec.regions > 1) sampler.start();
  try {
    const [, opened, closed] = await Promise.all([
      runWriters(writers, spec.opsPerSecond, performance.now(), closesAt, seededRandom(options.seed)),
      readCpuAt(opensAt),
      readCpuAt(closesAt),
    ]);
    return {
      start: opened.at,
      end: closed.at,
      cpuMs: new Map([...closed.cpu].map(([name, ms]) => [name, ms - opened.cpu.get(name)!])),
      ownCpuMs: closed.own - opened.own,
    };
  } finally {
    await sampler.stop();
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

/** Waits until every replica holds exactly what the writers wrote, or nothing arrived for a while. */
async function drain(replicas: Replica[], expected: Map<number, number>, activity: { lastFrameAt: number }): Promise<void> {
  // Building the readers' replicas blocked the event loop: the quiet period starts now.
  const started = performance.now();
  activity.lastFrameAt = started;
  for (;;) {
    const now = performance.now();
    if (replicas.every((r) => holdsExactly(r.doc, expected))) return;
    if (now - activity.lastFrameAt > DRAIN_QUIET_MS || now - started > DRAIN_MAX_MS) return;
    await sleep(20);
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

/** A region that died, closed clients or logged errors fails the run, whatever the replicas say. */
function noteTrouble(convergence: ConvergenceResult, cluster: BenchRegions, clients: BenchClient[]): void {
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
