/**
 * One catch-up run (issue #12): two regions, `documents` documents edited in region a while the
 * link to b is cut, then the link healed. Measures how long b takes to catch up (a's backlog for
 * b empty: b confirmed from its storage that it holds every document) and both processes' memory
 * meanwhile, then checks both regions' storage document by document.
 *
 * `open`: a client of every document stays connected in both regions (catch-up lands in live
 * rooms and reaches b's clients); otherwise every client left and both regions unloaded every
 * document before healing (catch-up opens them from storage).
 */
import * as Y from 'yjs';
import { mintDocument, type DocumentCapabilities } from '../../../lib/auth/capabilities';
import { documentDigest, equalBytes } from '../../../lib/protocol/documentDigest';
import { peakRssBytes, rssBytes } from '../load/processStats';
import { BenchRegions, clientHeaders } from './BenchRegions';
import { EditingClient } from './EditingClient';
import { RssSampler } from './RssSampler';
import { storedDigests } from './storedDigests';

export interface CatchUpSpec {
  documents: number;
  open: boolean;
  /** One-way delay on the link (ms). */
  delayMs?: number;
  /**
   * Instances of region a (default 1), sharing its storage and a Redis (issue #13): document i's
   * client uses instance i mod n, so every instance stores changes and marks the shared backlog;
   * the one holding the region links drains it.
   */
  senderInstances?: number;
}

export interface CatchUpOptions {
  log?: (line: string) => void;
}

export interface ProcessMemory {
  /** VmRSS just before healing. */
  rssBefore: number;
  /** Largest VmRSS sampled from healing until the backlog was empty. */
  peakRssDuring: number;
  /** VmHWM at the end: the peak over the process's whole life (writes included). */
  lifetimePeak: number;
}


export interface CatchUpResult {
  documents: number;
  /** Time to change every document during the partition (each stored in a). */
  writeMs: number;
  /** a's backlog for b before healing. */
  backlogBytes: number;
  /** Heal → both regions report the link up. */
  linkUpMs: number;
  /** Link up → a's backlog for b empty. */
  catchUpMs: number;
  /** Link up → every client of b holds every change (open documents only). */
  clientsHaveAllMs: number | null;
  sender: ProcessMemory;
  receiver: ProcessMemory;
  check: { equal: number };
  /** Anything that fails the run. */
  problems: string[];
  /** Warn-level region log lines from the heal on. */
  warnings: string[];
}

const SENDER = 'a';
const RECEIVER = 'b';
const CONCURRENCY = 50;
const CHANGES_PER_DOCUMENT = 5;
const POLL_MS = 50;
const SETTLE_TIMEOUT_MS = 120_000;
/** Catch-up fails when the backlog stops shrinking for this long. */
const STALL_MS = 60_000;
const MAX_PROBLEMS = 8;

const FILLER = 'The quick brown fox jumps over the lazy dog while the regions are apart.';

export async function runRegionCatchUp(spec: CatchUpSpec, options: CatchUpOptions = {}): Promise<CatchUpResult> {
  const log = options.log ?? (() => undefined);
  const cluster = await BenchRegions.start({ names: [SENDER, RECEIVER], linked: true, delayMs: spec.delayMs ?? 0, instances: { [SENDER]: spec.senderInstances ?? 1 } });
  const writers: (EditingClient | null)[] = [];
  const readers: EditingClient[] = [];
  let clientCount = 0;
  const open = (region: string, caps: DocumentCapabilities, i: number) => {
    const instances = cluster.region(region).instances;
    return EditingClient.open({ wsUrl: instances[i % instances.length]!.wsUrl, docId: caps.docId, token: caps.edit, headers: clientHeaders(clientCount++) });
  };
  try {
    await cluster.untilLinked();
    const docs = Array.from({ length: spec.documents }, () => mintDocument());

    // Every document exists in both regions, confirmed, before the partition.
    await inBatches(docs, CONCURRENCY, async (caps, i) => {
      const client = await open(SENDER, caps, i);
      client.appendParagraph(`Document ${i}. ${FILLER}`);
      await client.untilStored();
      if (spec.open) writers[i] = client;
      else client.close();
    });
    if (spec.open) await inBatches(docs, CONCURRENCY, async (caps, i) => void (readers[i] = await open(RECEIVER, caps, i)));
    await cluster.until('the seeded documents to be confirmed', SETTLE_TIMEOUT_MS, async () => (await cluster.peer(SENDER, RECEIVER)).backlog.documents === 0);
    log(`${spec.documents} documents seeded in ${SENDER} and confirmed by ${RECEIVER}`);

    await cluster.cutLink(SENDER, RECEIVER);
    await cluster.until('the link to be down on both sides', 30_000, async () =>
      (await cluster.peer(SENDER, RECEIVER)).state === 'down' && (await cluster.peer(RECEIVER, SENDER)).state === 'down',
    );

    // The changes, each stored in a before it counts.
    const expected: { clientId: number; clock: number; digest: Uint8Array }[] = [];
    const writeStarted = performance.now();
    await inBatches(docs, CONCURRENCY, async (caps, i) => {
      const client = writers[i] ?? (await open(SENDER, caps, i));
      for (let k = 1; k <= CHANGES_PER_DOCUMENT; k++) client.appendParagraph(`Change ${k} to document ${i} during the partition. ${FILLER}`);
      await client.untilStored();
      expected[i] = { clientId: client.doc.clientID, clock: Y.getState(client.doc.store, client.doc.clientID), digest: documentDigest(client.doc) };
      if (!spec.open) client.close();
    });
    const writeMs = performance.now() - writeStarted;
    const backlog = (await cluster.peer(SENDER, RECEIVER)).backlog;
    if (backlog.documents !== spec.documents) throw new Error(`${SENDER}'s backlog for ${RECEIVER} holds ${backlog.documents} documents after the partition's writes, not ${spec.documents}`);
    if (!spec.open) {
      await cluster.until('both regions to unload every document', SETTLE_TIMEOUT_MS, async () => {
        for (const region of cluster.regions) if ((await cluster.health(region.name)).documentsLoaded > 0) return false;
        return true;
      });
    }
    log(`${spec.documents} documents changed in ${SENDER} during the partition in ${Math.round(writeMs)} ms; healing`);

    // The cut itself logs warnings (link down, redials refused): count from the heal on.
    const logsFrom = cluster.logMark();
    const senderPids = cluster.region(SENDER).instances.map((instance) => instance.child.pid!);
    const receiver = cluster.region(RECEIVER);
    const rssBefore = new Map([...senderPids, receiver.pid].map((pid) => [pid, rssBytes(pid)]));
    const sampler = new RssSampler([...senderPids, receiver.pid]);
    sampler.start(POLL_MS);
    let peaks: Map<number, number>;
    let linkUpMs: number;
    let catchUpMs: number;
    let clientsHaveAllMs: number | null = null;
    try {
      const healed = performance.now();
      await cluster.healLink(SENDER, RECEIVER);
      await cluster.until('the link to come up after healing', 60_000, async () =>
        (await cluster.peer(SENDER, RECEIVER)).state === 'up' && (await cluster.peer(RECEIVER, SENDER)).state === 'up',
      POLL_MS);
      const linkUp = performance.now();
      linkUpMs = linkUp - healed;
      const clientsDone = spec.open ? untilEveryReaderHas(readers, expected).then(() => performance.now() - linkUp) : null;
      clientsDone?.catch(() => undefined); // awaited below, after the backlog
      await untilBacklogEmpty(cluster);
      catchUpMs = performance.now() - linkUp;
      if (clientsDone) clientsHaveAllMs = await clientsDone;
    } finally {
      peaks = sampler.stop();
    }
    // Of several instances of a: the one whose memory peaked highest (the one that held the links).
    const senderPid = senderPids.reduce((best, pid) => (peaks.get(pid)! > peaks.get(best)! ? pid : best));
    const lifetime = { sender: peakRssBytes(senderPid), receiver: peakRssBytes(receiver.pid) };
    log(`caught up: link up after ${Math.round(linkUpMs)} ms, backlog empty ${Math.round(catchUpMs)} ms later`);

    const problems: string[] = [];
    for (const client of [...writers, ...readers]) if (client && client.closedWith !== null) problems.push(`a client was closed by its region (code ${client.closedWith})`);
    for (const client of [...writers, ...readers]) client?.close();
    const { warnings } = cluster.logLines(logsFrom);
    const { errors } = cluster.logLines();
    problems.push(...errors.slice(0, MAX_PROBLEMS).map((line) => `error in a region log: ${line}`));
    await cluster.stop();
    const equal = await compareStorage(cluster, docs, expected, problems);
    return {
      documents: spec.documents,
      writeMs,
      backlogBytes: backlog.bytes,
      linkUpMs,
      catchUpMs,
      clientsHaveAllMs,
      sender: { rssBefore: rssBefore.get(senderPid)!, peakRssDuring: peaks.get(senderPid)!, lifetimePeak: lifetime.sender },
      receiver: { rssBefore: rssBefore.get(receiver.pid)!, peakRssDuring: peaks.get(receiver.pid)!, lifetimePeak: lifetime.receiver },
      check: { equal },
      problems: [...new Set(problems)],
      warnings,
    };
  } finally {
    for (const client of [...writers, ...readers]) client?.close();
    await cluster.close();
  }
}

/** Runs `task` over `items` with at most `limit` at once. */
async function inBatches<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

/** Waits until a's backlog for b is empty; fails if it stops shrinking for STALL_MS. */
async function untilBacklogEmpty(cluster: BenchRegions): Promise<void> {
  let smallest = Number.POSITIVE_INFINITY;
  let shrankAt = performance.now();
  for (;;) {
    const { documents } = (await cluster.peer(SENDER, RECEIVER)).backlog;
    if (documents === 0) return;
    const now = performance.now();
    if (documents < smallest) {
      smallest = documents;
      shrankAt = now;
    } else if (now - shrankAt > STALL_MS) {
      throw new Error(`catch-up stalled: ${SENDER}'s backlog for ${RECEIVER} stayed at ${documents} documents for ${STALL_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Resolves once every reader's replica holds its document's last change (its writer's clock). */
async function untilEveryReaderHas(readers: EditingClient[], expected: { clientId: number; clock: number }[]): Promise<void> {
  const started = performance.now();
  let from = 0;
  for (;;) {
    while (from < readers.length && Y.getState(readers[from]!.doc.store, expected[from]!.clientId) >= expected[from]!.clock) from++;
    if (from === readers.length) return;
    if (performance.now() - started > SETTLE_TIMEOUT_MS) throw new Error(`${readers.length - from} or more clients of ${RECEIVER} still lack changes after ${SETTLE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Both regions' stored digests, document by document, against each other and the writer's; returns how many agree. */
async function compareStorage(cluster: BenchRegions, docs: DocumentCapabilities[], expected: { digest: Uint8Array }[], problems: string[]): Promise<number> {
  const ids = docs.map((d) => d.docId);
  const [inSender, inReceiver] = await Promise.all([storedDigests(cluster.region(SENDER).dataDir, ids), storedDigests(cluster.region(RECEIVER).dataDir, ids)]);
  let equal = 0;
  const wrong: string[] = [];
  ids.forEach((id, i) => {
    const a = inSender.get(id);
    const b = inReceiver.get(id);
    if (a && b && equalBytes(a, b) && equalBytes(a, expected[i]!.digest)) equal++;
    else wrong.push(`document ${i} (${id}): ${!a ? `nothing stored in ${SENDER}` : !b ? `nothing stored in ${RECEIVER}` : !equalBytes(a, expected[i]!.digest) ? `${SENDER}'s storage differs from its writer` : `${RECEIVER}'s storage differs from ${SENDER}'s`}`);
  });
  if (wrong.length) problems.push(`${wrong.length} of ${ids.length} documents differ: ${wrong.slice(0, MAX_PROBLEMS).join('; ')}`);
  return equal;
}
