/**
 * The end-of-run check: every replica of a document holds exactly what its writers wrote (every
 * operation, nothing waiting for a missing dependency) and all replicas are identical. A replica
 * that missed one update fails it: Yjs keeps the writer's later operations pending behind the gap.
 */
import * as Y from 'yjs';
import { BENCH_TEXT } from './BenchClient';

export interface Replica {
  /** For messages: "client 17 (reader) of document 2". */
  label: string;
  documentName: string;
  doc: Y.Doc;
}

export interface ConvergenceResult {
  passed: boolean;
  replicas: number;
  /** Replicas with at least one problem. */
  failedReplicas: number;
  /** What differs, one line per problem, the first few only (empty when passed). */
  problems: string[];
}

/** Per document: per writer (Yjs client ID), how many operations every replica must hold. */
export type Expected = Map<string, Map<number, number>>;

const MAX_PROBLEMS_LISTED = 12;

/** Whether `doc` holds exactly the `expected` operations (cheap enough to poll while draining). */
export function holdsExactly(doc: Y.Doc, expected: Map<number, number>): boolean {
  if (doc.store.pendingStructs !== null) return false;
  for (const [clientId, clock] of expected) if (Y.getState(doc.store, clientId) !== clock) return false;
  return true;
}

/** What is wrong with one replica's operations, or an empty list. */
function missingOperations(replica: Replica, wanted: Map<number, number>, writerLabels: Map<number, string>): string[] {
  const problems: string[] = [];
  const lacks: string[] = [];
  for (const [clientId, clock] of wanted) {
    const have = Y.getState(replica.doc.store, clientId);
    if (have !== clock) lacks.push(`${clock - have} of the ${clock} operations of ${writerLabels.get(clientId) ?? `writer ${clientId}`}`);
  }
  if (lacks.length) problems.push(`${replica.label} lacks ${lacks.join(', ')}`);
  const unknown = [...Y.decodeStateVector(Y.encodeStateVector(replica.doc)).keys()].filter((id) => !wanted.has(id));
  if (unknown.length) problems.push(`${replica.label} holds operations of clients that are not writers: ${unknown.join(', ')}`);
  if (replica.doc.store.pendingStructs !== null) problems.push(`${replica.label} has updates waiting for operations it never received`);
  return problems;
}

export function checkConvergence(replicas: Replica[], expected: Expected, writerLabels = new Map<number, string>()): ConvergenceResult {
  const problems: string[] = [];
  const failed = new Set<Replica>();
  const byDocument = new Map<string, Replica[]>();
  for (const r of replicas) {
    const list = byDocument.get(r.documentName);
    if (list) list.push(r);
    else byDocument.set(r.documentName, [r]);
  }
  for (const [documentName, list] of byDocument) {
    const wanted = expected.get(documentName) ?? new Map<number, number>();
    const complete: Replica[] = [];
    for (const r of list) {
      const found = missingOperations(r, wanted, writerLabels);
      if (found.length) failed.add(r);
      else complete.push(r);
      problems.push(...found);
    }
    // Identical content: compare with a replica that holds every operation, if any does.
    const reference = complete[0] ?? list[0]!;
    const text = reference.doc.getText(BENCH_TEXT).toString();
    const snapshot = Y.snapshot(reference.doc);
    for (const r of list) {
      if (r === reference) continue;
      const differs = r.doc.getText(BENCH_TEXT).toString() !== text ? 'text' : !Y.equalSnapshots(Y.snapshot(r.doc), snapshot) ? 'state' : null;
      if (!differs) continue;
      failed.add(r);
      problems.push(`${r.label}: ${differs} differs from that of ${reference.label}`);
    }
  }
  const listed = problems.slice(0, MAX_PROBLEMS_LISTED);
  if (problems.length > listed.length) listed.push(`… and ${problems.length - listed.length} more problems`);
  return { passed: failed.size === 0, replicas: replicas.length, failedReplicas: failed.size, problems: listed };
}

/**
 * Waits until every replica holds exactly the expected operations, or nothing has arrived for
 * `drainQuietMs` (a lost update never comes), or `drainMaxMs` passed.
 */
export async function drainReplicas(
  replicas: Replica[],
  expected: Expected,
  options: { drainQuietMs: number; drainMaxMs: number },
  activity: { lastFrameAt: number },
): Promise<void> {
  // Building readers' replicas blocked the event loop: frames that arrived meanwhile are not read
  // yet, so the quiet period starts now, not at the last frame read.
  const started = performance.now();
  activity.lastFrameAt = started;
  for (;;) {
    const now = performance.now();
    if (replicas.every((r) => holdsExactly(r.doc, expected.get(r.documentName)!))) return;
    if (now - activity.lastFrameAt > options.drainQuietMs || now - started > options.drainMaxMs) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
