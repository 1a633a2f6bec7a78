/**
 * One load run against a Deployment: the load scenario's clients and writers (runLoad.ts), but
 * client n connects to instance n mod k, so a document's clients are spread over every instance
 * and most deliveries cross Redis. CPU is read from every instance's process (and Redis's), RSS
 * per instance. Optionally Redis drops the instances' subscriber connections a few times while
 * the writers write (CLIENT KILL TYPE pubsub): messages published meanwhile are lost, and no
 * client reconnects, so only a server that recovers on its own converges.
 */
import { BenchClient } from '../load/BenchClient';
import { checkConvergence, drainReplicas, holdsExactly, type ConvergenceResult, type Expected, type Replica } from '../load/convergence';
import { measureDeliveries } from '../load/latency';
import { cpuMillis, isAlive, peakRssBytes, rssBytes } from '../load/processStats';
import { runWriters } from '../load/writers';
import type { LoadSpec } from '../load/runLoad';
import { seededRandom } from '../../support/fuzzFrames';
import { percentile } from '../stats';
import { withTimeout } from '../waiting';
import type { Deployment } from './Deployment';

export interface SpreadOptions {
  seconds: number;
  warmupSeconds: number;
  seed: number;
  /** Drop every subscriber connection this many times, evenly spread over the window, the last 100 ms before its end. */
  subscriberDrops: number;
  /** After the writers stop: give up once no frame arrived for this long, or after drainMaxMs. */
  drainQuietMs: number;
  drainMaxMs: number;
}

export interface SpreadResult {
  clients: number;
  latency: { p50: number; p95: number; p99: number; samples: number };
  deliveriesPerSecond: number;
  expectedDeliveriesPerSecond: number;
  /** Server CPU (all instances) per delivery in the window, µs; and Redis's, when there is one. */
  cpuMicrosPerDelivery: number;
  redisCpuMicrosPerDelivery: number | null;
  /** The load generator's own CPU over the window, % of one core (near 100: it, not the server, limits). */
  loadGeneratorCpuPercent: number;
  /** Per instance, VmHWM (bytes), and VmRSS before any client connected. */
  peakRss: number[];
  rssBefore: number[];
  /** Subscriber connections Redis closed, per drop. */
  subscribersDropped: number[];
  convergence: ConvergenceResult;
  /** Documents at least one of whose replicas lacks an operation. */
  divergedDocuments: number;
}

const CONNECT_BATCH = 50;
const CONNECT_TIMEOUT_MS = 120_000;
const SETTLE_MS = 500;
const LAST_DROP_BEFORE_END_MS = 100;

export async function runSpreadLoad(deployment: Deployment, spec: LoadSpec, options: SpreadOptions): Promise<SpreadResult> {
  const activity = { lastFrameAt: performance.now() };
  const clients: BenchClient[] = [];
  const { instances } = deployment;
  try {
    await sleep(SETTLE_MS);
    const rssBefore = instances.map((i) => rssBytes(i.pid));
    const documents = Array.from({ length: spec.documents }, () => deployment.newDocument());
    for (const doc of documents) {
      for (let i = 0; i < spec.clientsPerDocument; i++) {
        const n = clients.length;
        clients.push(
          new BenchClient({
            framing: instances[n % instances.length]!.framing,
            doc,
            writer: i < spec.writersPerDocument,
            headers: deployment.clientHeaders(n),
            onFrame: () => (activity.lastFrameAt = performance.now()),
          }),
        );
        if (clients.length % CONNECT_BATCH === 0) {
          await withTimeout(Promise.all(clients.slice(-CONNECT_BATCH).map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
        }
      }
    }
    await withTimeout(Promise.all(clients.map((c) => c.ready)), CONNECT_TIMEOUT_MS, 'clients to connect');
    await sleep(SETTLE_MS);

    const writers = clients.filter((c) => c.isWriter);
    const pids = instances.map((i) => i.pid);
    const readCpu = () => ({
      at: performance.now(),
      servers: pids.reduce((sum, pid) => sum + cpuMillis(pid), 0),
      redis: deployment.redisPid === null ? 0 : cpuMillis(deployment.redisPid),
      self: process.cpuUsage(),
    });
    const opensAt = performance.now() + options.warmupSeconds * 1000;
    const closesAt = opensAt + options.seconds * 1000;
    const at = <T>(time: number, read: () => T | Promise<T>) =>
      new Promise<T>((resolve, reject) => setTimeout(() => Promise.resolve().then(read).then(resolve, reject), Math.max(0, time - performance.now())));
    // Evenly spread, the last just before the writers stop: what it loses, no later change repairs.
    const dropTimes = Array.from({ length: options.subscriberDrops }, (_, i) => opensAt + ((i + 1) / options.subscriberDrops) * options.seconds * 1000 - LAST_DROP_BEFORE_END_MS);
    const [, opened, closed, subscribersDropped] = await Promise.all([
      runWriters(writers, spec.opsPerSecond, performance.now(), closesAt, seededRandom(options.seed)),
      at(opensAt, readCpu),
      at(closesAt, readCpu),
      dropSubscribers(deployment, dropTimes),
    ]);

    const expected: Expected = new Map(documents.map((d) => [d.name, new Map<number, number>()]));
    for (const w of writers) expected.get(w.documentName)!.set(w.clientId, w.ownClock);
    const replicas: Replica[] = clients.map((c, n) => ({
      label: `client ${n} (${c.isWriter ? 'writer' : 'reader'}, ${instances[n % instances.length]!.name}) of document ${Math.floor(n / spec.clientsPerDocument)}`,
      documentName: c.documentName,
      doc: c.materialize(),
    }));
    await drainReplicas(replicas, expected, options, activity);

    const convergence = checkConvergence(replicas, expected, new Map(writers.map((w) => [w.clientId, `writer client ${clients.indexOf(w)}`])));
    const closedByServer = clients.filter((c) => c.closedAfterReady !== null);
    if (closedByServer.length) {
      convergence.passed = false;
      convergence.problems.unshift(`the servers closed ${closedByServer.length} client(s) (codes ${[...new Set(closedByServer.map((c) => c.closedAfterReady))].join(', ')})`);
    }
    const dead = instances.filter((i) => !isAlive(i.pid));
    if (dead.length) {
      convergence.passed = false;
      convergence.problems.unshift(`instance(s) ${dead.map((i) => i.name).join(', ')} died during the run`);
    }
    const diverged = new Set(replicas.filter((r) => !holdsExactly(r.doc, expected.get(r.documentName)!)).map((r) => r.documentName));

    const window = { start: opened.at, end: closed.at };
    const deliveries = measureDeliveries(clients, new Map(writers.map((w) => [w.clientId, w])), window);
    const latencies = deliveries.latencies.sorted();
    const seconds = (window.end - window.start) / 1000;
    const selfCpuMs = (closed.self.user + closed.self.system - opened.self.user - opened.self.system) / 1000;
    const perDelivery = (ms: number) => (deliveries.inWindow ? (ms * 1000) / deliveries.inWindow : Number.NaN);
    return {
      clients: clients.length,
      latency: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), samples: latencies.length },
      deliveriesPerSecond: deliveries.inWindow / seconds,
      expectedDeliveriesPerSecond: spec.documents * spec.writersPerDocument * spec.opsPerSecond * (spec.clientsPerDocument - 1),
      cpuMicrosPerDelivery: perDelivery(closed.servers - opened.servers),
      redisCpuMicrosPerDelivery: deployment.redisPid === null ? null : perDelivery(closed.redis - opened.redis),
      loadGeneratorCpuPercent: selfCpuMs / seconds / 10,
      peakRss: pids.map((pid) => peakRssBytes(pid)),
      rssBefore,
      subscribersDropped,
      convergence,
      divergedDocuments: diverged.size,
    };
  } finally {
    for (const c of clients) c.close();
  }
}

/**
 * At each time, Redis closes every subscriber connection; each drop first waits (up to 10 s) for
 * every instance to have resubscribed since the previous one, so each drop hits all of them.
 */
async function dropSubscribers(deployment: Deployment, times: number[]): Promise<number[]> {
  const dropped: number[] = [];
  if (times.length && !deployment.redis) throw new Error('subscriber drops need a Redis');
  for (const time of times) {
    await sleep(Math.max(0, time - performance.now()));
    const giveUpAt = performance.now() + 10_000;
    while ((await deployment.subscriberConnections()) < deployment.instances.length && performance.now() < giveUpAt) await sleep(50);
    dropped.push(await deployment.redis!.dropSubscribers());
  }
  return dropped;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

