/**
 * One load run against one server: N clients over D documents, writers at a fixed rate, a
 * measured window, then a drain and the convergence check.
 */
import { isAlive, cpuMillis, peakRssBytes, rssBytes } from './processStats';
import { BenchClient, type Workload } from './BenchClient';
import { checkConvergence, drainReplicas, type ConvergenceResult, type Expected, type Replica } from './convergence';
import { measureDeliveries, type Window } from './latency';
import { runWriters } from './writers';
import type { BenchDocument } from './framing';
import type { PeerServer } from '../peers/PeerServer';
import { seededRandom } from '../../support/fuzzFrames';
import { percentile, Samples } from '../stats';
import { withTimeout } from '../waiting';

export interface LoadSpec {
  documents: number;
  clientsPerDocument: number;
  /** The first this-many clients of each document write; 0 = connections only. */
  writersPerDocument: number;
  /** Per writer. */
  opsPerSecond: number;
  /** What each operation is (BenchClient's Workload; default single characters). */
  workload?: Workload;
}

export interface LoadOptions {
  /** Length of the measured window. */
  seconds: number;
  /** Writers write this long before the window opens (not measured). */
  warmupSeconds: number;
  /** Clients connect in batches of this many, each batch once the previous one is synced. */
  connectConcurrency: number;
  /** After the writers stop: give up waiting for replicas to converge once no frame arrived for this long… */
  drainQuietMs: number;
  /** …or after this long in all. */
  drainMaxMs: number;
  seed: number;
  /** Fault injection: client `client` (index in the run) discards its `nthUpdate`-th update. */
  fault?: { client: number; nthUpdate: number };
  log?: (line: string) => void;
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = {
  seconds: 10,
  warmupSeconds: 1,
  connectConcurrency: 50,
  drainQuietMs: 2_000,
  drainMaxMs: 30_000,
  seed: 1,
};

const CONNECT_TIMEOUT_MS = 120_000;
const SETTLE_MS = 500;

export interface LoadResult {
  clients: number;
  /** Per client: socket created → synced (ms). */
  setup: { p50: number; p95: number; p99: number; max: number; allMs: number };
  /** Server memory (bytes): before any client, with every client connected, and the process's peak. */
  rss: { before: number; connected: number; perConnection: number; peak: number };
  /** Writer's local apply → each other client's reception (ms). */
  latency: { p50: number; p95: number; p99: number; max: number; samples: number };
  deliveriesPerSecond: number;
  /** What the spec asks for: writers × rate × other clients. */
  expectedDeliveriesPerSecond: number;
  serverCpuMs: number;
  /** Server CPU time (utime + stime) per delivery during the window, in microseconds. */
  cpuMicrosPerDelivery: number;
  convergence: ConvergenceResult;
}

export async function runLoad(server: PeerServer, spec: LoadSpec, overrides: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const options = { ...DEFAULT_LOAD_OPTIONS, ...overrides };
  const log = options.log ?? (() => undefined);
  const activity = { lastFrameAt: performance.now() };
  const clients: BenchClient[] = [];
  try {
    // A server that just said "listening" may still be settling (lazy imports, first GC).
    await sleep(SETTLE_MS);
    const rssBefore = rssBytes(server.pid);

    const documents = Array.from({ length: spec.documents }, () => server.newDocument());
    const connectStarted = performance.now();
    await connectAll(server, spec, options, documents, clients, () => (activity.lastFrameAt = performance.now()));
    const allMs = performance.now() - connectStarted;
    const setupTimes = clients.map((c) => c.setupMs).sort((a, b) => a - b);
    log(`${clients.length} clients connected`);
    await sleep(SETTLE_MS);
    const rssConnected = rssBytes(server.pid);

    const writers = clients.filter((c) => c.isWriter);
    const window = writers.length ? await writeThroughWindow(server.pid, writers, spec, options) : null;
    if (window) log(`writers done: ${writers.reduce((n, w) => n + w.operations, 0)} operations`);

    // Every replica must end with exactly what its document's writers wrote.
    const expected: Expected = new Map(documents.map((d) => [d.name, new Map<number, number>()]));
    for (const w of writers) expected.get(w.documentName)!.set(w.clientId, w.ownClock);
    const replicas: Replica[] = clients.map((c, n) => ({
      label: `client ${n} (${c.isWriter ? 'writer' : 'reader'}) of document ${documents.findIndex((d) => d.name === c.documentName)}`,
      documentName: c.documentName,
      doc: c.materialize(),
    }));
    await drainReplicas(replicas, expected, options, activity);
    const peak = peakRssBytes(server.pid);

    const writerLabels = new Map(writers.map((w) => [w.clientId, `writer client ${clients.indexOf(w)}`]));
    const convergence = checkConvergence(replicas, expected, writerLabels);
    noteServerTrouble(convergence, server.pid, clients);
    const deliveries = window
      ? measureDeliveries(clients, new Map(writers.map((w) => [w.clientId, w])), window)
      : { latencies: new Samples(), inWindow: 0 };
    const latencies = deliveries.latencies.sorted();
    return {
      clients: clients.length,
      setup: { ...spread(setupTimes), allMs },
      rss: { before: rssBefore, connected: rssConnected, perConnection: (rssConnected - rssBefore) / clients.length, peak },
      latency: { ...spread(latencies), samples: latencies.length },
      deliveriesPerSecond: window ? deliveries.inWindow / ((window.end - window.start) / 1000) : 0,
      expectedDeliveriesPerSecond: spec.documents * spec.writersPerDocument * spec.opsPerSecond * (spec.clientsPerDocument - 1),
      serverCpuMs: window?.serverCpuMs ?? 0,
      cpuMicrosPerDelivery: window && deliveries.inWindow ? (window.serverCpuMs * 1000) / deliveries.inWindow : Number.NaN,
      convergence,
    };
  } finally {
    for (const c of clients) c.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function spread(sorted: ArrayLike<number>): { p50: number; p95: number; p99: number; max: number } {
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Opens every client (into `clients`, so the caller closes them even on failure), in synced batches. */
async function connectAll(
  server: PeerServer,
  spec: LoadSpec,
  options: LoadOptions,
  documents: BenchDocument[],
  clients: BenchClient[],
  onFrame: () => void,
): Promise<void> {
  for (const doc of documents) {
    for (let i = 0; i < spec.clientsPerDocument; i++) {
      const n = clients.length;
      clients.push(
        new BenchClient({
          framing: server.framing,
          doc,
          writer: i < spec.writersPerDocument,
          workload: spec.workload,
          headers: server.clientHeaders(n),
          dropNthUpdate: options.fault?.client === n ? options.fault.nthUpdate : undefined,
          onFrame,
        }),
      );
      if (clients.length % options.connectConcurrency === 0) {
        await withTimeout(Promise.all(clients.slice(-options.connectConcurrency).map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
      }
    }
  }
  await withTimeout(Promise.all(clients.map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
}

interface MeasuredWindow extends Window {
  serverCpuMs: number;
}

/**
 * Writers write through the warm-up and the window; the server's CPU time is read when the window
 * opens and when it closes (the times it was actually read bound the window).
 */
async function writeThroughWindow(pid: number, writers: BenchClient[], spec: LoadSpec, options: LoadOptions): Promise<MeasuredWindow> {
  const opensAt = performance.now() + options.warmupSeconds * 1000;
  const closesAt = opensAt + options.seconds * 1000;
  const readCpuAt = (at: number) =>
    new Promise<{ at: number; cpuMs: number }>((resolve) =>
      setTimeout(() => resolve({ at: performance.now(), cpuMs: cpuMillis(pid) }), Math.max(0, at - performance.now())),
    );
  const [, opened, closed] = await Promise.all([
    runWriters(writers, spec.opsPerSecond, performance.now(), closesAt, seededRandom(options.seed)),
    readCpuAt(opensAt),
    readCpuAt(closesAt),
  ]);
  return { start: opened.at, end: closed.at, serverCpuMs: closed.cpuMs - opened.cpuMs };
}


/** A server that died or closed clients fails the run, whatever the replicas say. */
function noteServerTrouble(convergence: ConvergenceResult, pid: number, clients: BenchClient[]): void {
  const closed = clients.filter((c) => c.closedAfterReady !== null);
  if (closed.length) {
    convergence.passed = false;
    const codes = [...new Set(closed.map((c) => c.closedAfterReady))].join(', ');
    convergence.problems.unshift(`the server closed ${closed.length} client(s) during the run (codes ${codes})`);
  }
  if (!isAlive(pid)) {
    convergence.passed = false;
    convergence.problems.unshift('the server process died during the run');
  }
}
