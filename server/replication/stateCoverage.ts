/**
 * What a region tells a peer it holds of a document, and whether one such state covers another.
 * A state is a Yjs snapshot (delete set + state vector): a state vector alone cannot show that a
 * deletion arrived, and comparing whole-document digests cannot tell "the peer has all of ours
 * and more" (the usual case while both sides are being edited) from "the peer lacks something".
 */
import * as Y from 'yjs';

/** The snapshot of `doc` as sent in a state request or reply. */
export function encodeState(doc: Y.Doc): Uint8Array {
  return Y.encodeSnapshot(Y.snapshot(doc));
}

/** The state of a document a region does not hold (never written, or deleted). */
export const EMPTY_STATE: Uint8Array = Y.encodeSnapshot(Y.emptySnapshot);

/** A peer's state, decoded; throws on bytes that are not a snapshot. */
export function decodeState(state: Uint8Array): Y.Snapshot {
  return Y.decodeSnapshot(state);
}

/** The state vector of a state, encoded (for Y.encodeStateAsUpdate). */
export function stateVectorOf(state: Y.Snapshot): Uint8Array {
  return Y.encodeStateVector(state.sv);
}

/** True when `holder` has every struct and every deletion `wanted` has. */
export function covers(holder: Y.Snapshot, wanted: Y.Snapshot): boolean {
  for (const [client, clock] of wanted.sv) {
    if ((holder.sv.get(client) ?? 0) < clock) return false;
  }
  for (const [client, ranges] of wanted.ds.clients) {
    const held = sortedRanges(holder.ds.clients.get(client));
    for (const range of ranges) {
      if (range.len > 0 && !rangeCovered(held, range.clock, range.clock + range.len)) return false;
    }
  }
  return true;
}

interface Range {
  clock: number;
  len: number;
}

function sortedRanges(ranges: readonly Range[] | undefined): Range[] {
  return ranges ? [...ranges].sort((a, b) => a.clock - b.clock) : [];
}

/** Whether [from, to) lies inside the union of `held` (sorted by clock; may touch or overlap). */
function rangeCovered(held: readonly Range[], from: number, to: number): boolean {
  let reached = from;
  for (const range of held) {
    if (range.clock > reached) return false;
    reached = Math.max(reached, range.clock + range.len);
    if (reached >= to) return true;
  }
  return reached >= to;
}
