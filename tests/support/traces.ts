/**
 * Real editing traces from ../shared/traces (Joseph Gentle's editing-traces, CC BY 4.0), turned
 * into Yjs updates for convergence tests and benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';

export const TRACES_DIR = path.resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'traces');

type Patch = [position: number, deleteCount: number, insert: string];

export interface SequentialTrace {
  startContent: string;
  endContent: string;
  txns: { patches: Patch[] }[];
}

export interface ConcurrentTrace {
  kind: 'concurrent';
  startContent?: string;
  endContent: string;
  numAgents: number;
  txns: { parents: number[]; numChildren: number; agent: number; patches: Patch[] }[];
}

export function loadTrace<T = SequentialTrace>(name: string): T {
  const file = path.join(TRACES_DIR, `${name}.json.gz`);
  if (!fs.existsSync(file)) throw new Error(`trace ${file} not found: the tests expect ../shared/traces beside the repository`);
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as T;
}

function applyPatches(text: Y.Text, patches: Patch[]): void {
  for (const [pos, del, ins] of patches) {
    if (del > 0) text.delete(pos, del);
    if (ins) text.insert(pos, ins);
  }
}

/** One Yjs update per transaction of a sequential trace, applied to `textName`. */
export function sequentialUpdates(trace: SequentialTrace, textName: string): Uint8Array[] {
  const doc = new Y.Doc();
  const text = doc.getText(textName);
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  if (trace.startContent) text.insert(0, trace.startContent);
  for (const txn of trace.txns) doc.transact(() => applyPatches(text, txn.patches));
  return updates;
}

export interface AuthoredUpdate {
  agent: number;
  update: Uint8Array;
}

/**
 * Replays a concurrent trace as its authors made it, one Yjs update per transaction, tagged
 * with its author. Each author has one replica; before an author's transaction, the replica
 * receives exactly the other authors' transactions that the DAG's `parents` say it had seen, so
 * the patch positions apply to the same text they were recorded on.
 *
 * This needs each author's own transactions to form a chain (each one sees the author's previous
 * one), which holds for recorded human editing; the replay checks it and throws otherwise.
 *
 * Why not one replica per DAG branch (fork = a new Y.Doc, merge = exchange missing updates)?
 * Tried on friendsforever: about 65 s instead of 2 s (2,258 forks each copy the whole document),
 * and because every fork gets a random client ID, concurrent inserts in the same gap (they do
 * occur, whatever the traces README says) came out in a different order in one run of two.
 * With author k as client k + 1 the result is exact and deterministic; with the order reversed
 * the text differs from character 3,798 on.
 */
export function concurrentUpdates(trace: ConcurrentTrace, textName: string): AuthoredUpdate[] {
  const agents = trace.numAgents;
  const base = new Y.Doc();
  if (trace.startContent) base.getText(textName).insert(0, trace.startContent);
  const baseState = Y.encodeStateAsUpdate(base);
  const out: AuthoredUpdate[] = trace.startContent ? [{ agent: 0, update: baseState }] : [];

  /** For each transaction: how many of each author's transactions its state includes. */
  const seen: number[][] = [];
  const byAgent: Uint8Array[][] = Array.from({ length: agents }, () => []);
  const replicas = Array.from({ length: agents }, (_, agent) => {
    const doc = new Y.Doc();
    // Concurrent inserts in the same gap are ordered by client ID in Yjs; the recording resolved
    // such ties in author order, so author k gets client ID k + 1 to replay the same text.
    doc.clientID = agent + 1;
    Y.applyUpdate(doc, baseState);
    return { doc, applied: new Array<number>(agents).fill(0) };
  });

  trace.txns.forEach((txn, index) => {
    const required = new Array<number>(agents).fill(0);
    for (const parent of txn.parents) seen[parent]!.forEach((n, k) => (required[k] = Math.max(required[k]!, n)));
    const replica = replicas[txn.agent]!;
    if (required[txn.agent] !== byAgent[txn.agent]!.length) {
      throw new Error(`transaction ${index}: author ${txn.agent}'s transactions do not form a chain`);
    }
    for (let k = 0; k < agents; k++) {
      if (k === txn.agent) continue;
      if (replica.applied[k]! > required[k]!) throw new Error(`transaction ${index}: author ${txn.agent} saw edits its parents do not include`);
      while (replica.applied[k]! < required[k]!) Y.applyUpdate(replica.doc, byAgent[k]![replica.applied[k]!++]!);
    }
    let own: Uint8Array | null = null;
    const capture = (u: Uint8Array) => (own = u);
    replica.doc.on('update', capture);
    replica.doc.transact(() => applyPatches(replica.doc.getText(textName), txn.patches));
    replica.doc.off('update', capture);
    // An empty transaction still counts as one of the author's, so keep the chain with an empty update.
    const update: Uint8Array = own ?? Y.encodeStateAsUpdate(new Y.Doc());
    byAgent[txn.agent]!.push(update);
    replica.applied[txn.agent]!++;
    required[txn.agent] = byAgent[txn.agent]!.length;
    seen[index] = required;
    if (own) out.push({ agent: txn.agent, update });
  });
  return out;
}
