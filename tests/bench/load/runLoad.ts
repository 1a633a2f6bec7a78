/**
 * One load run against one server: N clients over D documents, writers at a fixed rate, a
 * measured window, then a drain and the convergence check.
 */
import { isAlive, cpuMillis, peakRssBytes, rssBytes } from './processStats';
import { BenchClient } from './BenchClient';
import { checkConvergence, holdsExactly, type ConvergenceResult, type Expected, type Replica } from './convergence';
import { measureDeliveries } from './latency';
import { runWriters } from './writers';
import type { PeerServer } from '../peers/PeerServer';
import { seededRandom } from '../../support/fuzzFrames';
import { percentile } from '../stats';
import { withTimeout } from '../waiting';

export interface LoadSpec {
  documents: number;
  clientsPerDocument: number;
  /** The first this-many clients of each document write; 0 = connections only. */
  writersPerDocument: number;
  /** Per writer. */
  opsPerSecond: number;
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
  const clients: BenchClient[] = [];
  try {
    // A server that just said "listening" may still be settling (lazy imports, first GC).
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const rssBefore = rssBytes(server.pid);
    let lastFrameAt = performance.now();
    const onFrame = () => (lastFrameAt = performance.now());

    // 1. Connect every client, a bounded number at a time.
    const documents = Array.from({ length: spec.documents }, () => server.newDocument());
    const connectStarted = performance.now();
    for (const doc of documents) {
      for (let i = 0; i < spec.clientsPerDocument; i++) {
        const n = clients.length;
        const dropNthUpdate = options.fault?.client === n ? options.fault.nthUpdate : undefined;
        clients.push(
          new BenchClient({
            framing: server.framing,
            doc,
            writer: i < spec.writersPerDocument,
            headers: server.clientHeaders(n),
            dropNthUpdate,
            onFrame,
          }),
        );
        if (clients.length % options.connectConcurrency === 0) {
          await withTimeout(Promise.all(clients.slice(-options.connectConcurrency).map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
        }
      }
    }
    await withTimeout(Promise.all(clients.map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
    const setupTimes = clients.map((c) => c.setupMs).sort((a, b) => a - b);
    const allMs = performance.now() - connectStarted;
    log(`${clients.length} clients connected`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const rssConnected = rssBytes(server.pid);

    // 2. Writers write; the window opens after the warm-up.
    const writers = clients.filter((c) => c.isWriter);
    const random = seededRandom(options.seed);
    const windowStart = performance.now() + options.warmupSeconds * 1000;
    const windowEnd = windowStart + options.seconds * 1000;
    const cpu = { start: 0, startAt: windowStart, end: 0, endAt: windowEnd };
    if (writers.length > 0) {
      const cpuRead = (key: 'start' | 'end') =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            cpu[`${key}At`] = performance.now();
            cpu[key] = cpuMillis(server.pid);
            resolve();
          }, Math.max(0, cpu[`${key}At`] - performance.now())),
        );
      await Promise.all([runWriters(writers, spec.opsPerSecond, performance.now(), windowEnd, random), cpuRead('start'), cpuRead('end')]);
      log(`writers done: ${writers.reduce((n, w) => n + w.appliedAt.length, 0)} operations`);
    }

    // 3. Drain: every replica must end with exactly what the writers wrote.
    const expected: Expected = new Map(documents.map((d) => [d.name, new Map<number, number>()]));
    for (const w of writers) expected.get(w.documentName)!.set(w.clientId, w.appliedAt.length);
    const replicas: Replica[] = clients.map((c, n) => ({
      label: `client ${n} (${c.isWriter ? 'writer' : 'reader'}) of document ${documents.findIndex((d) => d.name === c.documentName)}`,
      documentName: c.documentName,
      doc: c.materialize(),
    }));
    // Materializing blocks the event loop; frames that arrived meanwhile are not read yet, so the
    // quiet period starts now, not at the last frame read.
    const drainStarted = performance.now();
    lastFrameAt = drainStarted;
    await new Promise<void>((resolve) => {
      const poll = () => {
        const now = performance.now();
        const converged = replicas.every((r) => holdsExactly(r.doc, expected.get(r.documentName)!));
        if (converged || now - lastFrameAt > options.drainQuietMs || now - drainStarted > options.drainMaxMs) resolve();
        else setTimeout(poll, 20);
      };
      poll();
    });
    const peak = peakRssBytes(server.pid);

    // 4. Figures.
    const writerLabels = new Map(writers.map((w) => [w.clientId, `writer client ${clients.indexOf(w)}`]));
    const convergence = checkConvergence(replicas, expected, writerLabels);
    if (!isAlive(server.pid)) {
      convergence.passed = false;
      convergence.problems.unshift('the server process died during the run');
    }
    const closed = clients.filter((c) => c.closedAfterReady !== null);
    if (closed.length) {
      convergence.passed = false;
      convergence.problems.unshift(`the server closed ${closed.length} client(s) during the run (codes ${[...new Set(closed.map((c) => c.closedAfterReady))].join(', ')})`);
    }
    const writersById = new Map(writers.map((w) => [w.clientId, w]));
    const deliveries = measureDeliveries(clients, writersById, { start: windowStart, end: windowEnd });
    const sorted = deliveries.latencies.sorted();
    const windowSeconds = (cpu.endAt - cpu.startAt) / 1000;
    const serverCpuMs = cpu.end - cpu.start;
    const connections = clients.length;
    return {
      clients: connections,
      setup: {
        p50: percentile(setupTimes, 50),
        p95: percentile(setupTimes, 95),
        p99: percentile(setupTimes, 99),
        max: setupTimes[setupTimes.length - 1] ?? Number.NaN,
        allMs,
      },
      rss: { before: rssBefore, connected: rssConnected, perConnection: (rssConnected - rssBefore) / connections, peak },
      latency: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
        samples: sorted.length,
      },
      deliveriesPerSecond: writers.length ? deliveries.inWindow / windowSeconds : 0,
      expectedDeliveriesPerSecond: spec.documents * spec.writersPerDocument * spec.opsPerSecond * (spec.clientsPerDocument - 1),
      serverCpuMs: writers.length ? serverCpuMs : 0,
      cpuMicrosPerDelivery: writers.length && deliveries.inWindow ? (serverCpuMs * 1000) / deliveries.inWindow : Number.NaN,
      convergence,
    };
  } finally {
    for (const c of clients) c.close();
  }
}
