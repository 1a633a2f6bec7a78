/**
 * The replica invariant of issue #15: after any sequence of frames, the relay's in-memory
 * document, its storage as a fresh server on the same data serves it, and every connected honest
 * client hold identical content. State vectors alone cannot show a split (deletions do not move
 * them, and two different items can carry the same ID), so the body, the title and the state
 * vector are all compared.
 */
import * as Y from 'yjs';
import type { RunningServer } from '../../server/startServer';
import { BODY_FRAGMENT, TITLE_TEXT } from '../../lib/documents/dataModel';
import { connectClient, type NodeClient } from './nodeClient';

export interface ReplicaSnapshot {
  name: string;
  body: string;
  title: string;
  /** The state vector as "client:clock" pairs, sorted, so two can be compared and printed. */
  stateVector: string;
  /** Bytes of update data the replica holds but has not integrated. */
  pendingBytes: number;
}

export interface InvariantReport {
  /** 1 when the replicas are not all identical, else 0. */
  splits: number;
  /** Readable differences, each naming the replica and the field; empty when all agree. */
  differences: string[];
  /** Things seen that are not splits, such as an honest client whose client id Yjs replaced. */
  notes: string[];
  replicas: ReplicaSnapshot[];
}

export interface HonestReplica {
  name: string;
  client: NodeClient;
}

export interface InvariantCheck {
  server: RunningServer;
  docId: string;
  /** An edit or view token for the document: the fresh client reads with it. */
  token: string;
  honest: HonestReplica[];
  /** Starts a new server on the first one's data directory (called after the first is closed). */
  startFresh: () => Promise<RunningServer>;
  /** How long the honest clients may take to settle (reconnecting after a reload included). */
  timeoutMs?: number;
}

const POLL_MS = 20;

export function snapshotOf(name: string, doc: Y.Doc): ReplicaSnapshot {
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort(([a], [b]) => a - b);
  const store = doc.store;
  return {
    name,
    body: doc.getXmlFragment(BODY_FRAGMENT).toString(),
    title: doc.getText(TITLE_TEXT).toString(),
    stateVector: sv.map(([client, clock]) => `${client}:${clock}`).join(' '),
    pendingBytes: (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0),
  };
}

/** Where two strings first differ, with a little context on each side. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 40);
  return `at character ${i} (lengths ${a.length} and ${b.length}): …${a.slice(from, i + 40)}… vs …${b.slice(from, i + 40)}…`;
}

/** Only the clients whose clocks differ, as "client: a vs b" ("-" where one side lacks it). */
function stateVectorDifference(a: string, b: string): string {
  const parse = (sv: string) => new Map(sv.split(' ').filter(Boolean).map((pair) => pair.split(':') as [string, string]));
  const left = parse(a);
  const right = parse(b);
  const clients = [...new Set([...left.keys(), ...right.keys()])].filter((c) => left.get(c) !== right.get(c));
  return clients.map((c) => `${c}: ${left.get(c) ?? '-'} vs ${right.get(c) ?? '-'}`).join(', ');
}

/** Differences of each replica from the first (the reference), one line per replica and field. */
export function compareReplicas(replicas: ReplicaSnapshot[]): string[] {
  const [reference, ...others] = replicas;
  if (!reference) return [];
  const differences: string[] = [];
  for (const other of others) {
    if (other.body !== reference.body) differences.push(`body of ${other.name} ≠ ${reference.name} ${firstDifference(other.body, reference.body)}`);
    if (other.title !== reference.title) differences.push(`title of ${other.name} ≠ ${reference.name}: "${other.title}" vs "${reference.title}"`);
    if (other.stateVector !== reference.stateVector) differences.push(`state vector of ${other.name} ≠ ${reference.name}: ${stateVectorDifference(other.stateVector, reference.stateVector)}`);
  }
  return differences;
}

function memoryDoc(server: RunningServer, docId: string): Y.Doc | undefined {
  const room = server.relay.loadedRoom(docId);
  return room && !room.isDestroyed ? room.doc : undefined;
}

/**
 * Honest clients connected and synced, holding what the relay holds. Update data a replica holds
 * pending (missing dependencies, relayed as the relay received it) is not content: it is noted,
 * not waited for, since it may never integrate.
 */
function settled(server: RunningServer, docId: string, honest: HonestReplica[]): boolean {
  const doc = memoryDoc(server, docId);
  if (!doc) return false;
  const reference = snapshotOf('relay', doc);
  return honest.every(({ name, client }) => {
    if (!client.provider.wsconnected || !client.provider.synced) return false;
    return compareReplicas([reference, snapshotOf(name, client.doc)]).length === 0;
  });
}

/**
 * Polls until `settled` holds or the deadline passes. Returns false at the deadline: a split
 * keeps the replicas apart for good, and the caller then reports what differs.
 */
async function waitUntilSettled(server: RunningServer, docId: string, honest: HonestReplica[], timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!settled(server, docId, honest)) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

/**
 * Destroys an honest client. When an update claims a replica's own client id with items it lacks,
 * Yjs gives the replica a new id; the stock provider's destroy() then throws (it encodes presence
 * for doc.clientID, which its awareness never knew), so that id gets a presence entry first.
 */
function closeHonest({ name, client }: HonestReplica, notes: string[]): void {
  const awareness = client.provider.awareness;
  if (awareness.clientID !== client.doc.clientID) {
    notes.push(`${name}'s client id was replaced by Yjs (${awareness.clientID} → ${client.doc.clientID}): another update claimed it`);
    if (!awareness.meta.has(client.doc.clientID)) awareness.meta.set(client.doc.clientID, { clock: 0, lastUpdated: Date.now() });
  }
  client.destroy();
}

/** Resolves once `client` has synced, or rejects at the deadline. */
async function syncedWithin(client: NodeClient, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not sync within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.synced, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks the invariant. Call when nothing more will be sent (the attack over, the honest clients
 * done typing). Closes `server` cleanly and the honest clients; starts a fresh server on the same
 * data, reads the document through it and through a fresh stock client, and closes both.
 */
export async function checkReplicaInvariant(check: InvariantCheck): Promise<InvariantReport> {
  const { server, docId, honest } = check;
  const timeoutMs = check.timeoutMs ?? 15_000;
  const differences: string[] = [];
  if (!(await waitUntilSettled(server, docId, honest, timeoutMs))) {
    differences.push(`the honest clients did not settle on the relay's document within ${timeoutMs} ms`);
  }
  const doc = memoryDoc(server, docId);
  const replicas: ReplicaSnapshot[] = [doc ? snapshotOf('relay memory', doc) : { name: 'relay memory (not loaded)', body: '', title: '', stateVector: '', pendingBytes: 0 }];
  for (const { name, client } of honest) replicas.push(snapshotOf(name, client.doc));

  const notes = replicas.filter((r) => r.pendingBytes > 0).map((r) => `${r.name} holds ${r.pendingBytes} bytes of pending update data`);
  for (const h of honest) closeHonest(h, notes);
  const report = await server.close();
  if (report.unstoredDocIds.length > 0) differences.push(`the relay could not store ${report.unstoredDocIds.join(', ')} at shutdown`);

  const fresh = await check.startFresh();
  const reader = connectClient(fresh.wsUrl, docId, check.token);
  try {
    await syncedWithin(reader, timeoutMs, 'a fresh client of the restarted server');
    const stored = memoryDoc(fresh, docId);
    replicas.push(stored ? snapshotOf('storage (fresh server)', stored) : { name: 'storage (fresh server, not loaded)', body: '', title: '', stateVector: '', pendingBytes: 0 });
    replicas.push(snapshotOf('fresh client', reader.doc));
  } finally {
    reader.destroy();
    await fresh.close();
  }
  differences.push(...compareReplicas(replicas));
  return { splits: differences.length > 0 ? 1 : 0, differences, notes, replicas };
}
