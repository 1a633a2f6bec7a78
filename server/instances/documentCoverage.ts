/**
 * Whether a room's document already holds everything of a stored update: its structs and its
 * deletions. A state vector alone cannot say (deletions do not show in it), and Yjs's
 * snapshotContainsUpdate needs a snapshot of the whole document; this looks only at what the
 * update names.
 */
import * as Y from 'yjs';

/** True when `doc` holds every struct of `update` and has applied every deletion in it. */
export function holdsAll(doc: Y.Doc, update: Uint8Array): boolean {
  const missing = Y.diffUpdate(update, Y.encodeStateVector(doc));
  const { structs, ds } = Y.decodeUpdate(missing);
  if (structs.length > 0) return false;
  for (const [client, ranges] of ds.clients) {
    const held = doc.store.clients.get(client);
    for (const range of ranges) if (!allDeleted(held, range.clock, range.clock + range.len)) return false;
  }
  return true;
}

/**
 * True when `doc` holds every struct and deletion of each of `updates`: the same answer as
 * holdsAll of their merge, at a fraction of its cost (each update is decoded once, nothing is
 * re-encoded), and byte-identical copies (every instance storing the same change) count once.
 * This is the usual case of a read of storage, whose entries the bus brought already.
 */
export function holdsEvery(doc: Y.Doc, updates: readonly Uint8Array[]): boolean {
  const checked = new Map<number, Uint8Array[]>();
  for (const update of updates) {
    const sameLength = checked.get(update.byteLength);
    if (sameLength?.some((other) => Buffer.compare(other, update) === 0)) continue;
    if (sameLength) sameLength.push(update);
    else checked.set(update.byteLength, [update]);
    if (!holdsOne(doc, update)) return false;
  }
  return true;
}

function holdsOne(doc: Y.Doc, update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  for (const struct of structs) {
    if (struct instanceof Y.Skip) continue;
    if (struct.id.clock + struct.length > Y.getState(doc.store, struct.id.client)) return false;
  }
  for (const [client, ranges] of ds.clients) {
    const held = doc.store.clients.get(client);
    for (const range of ranges) if (!allDeleted(held, range.clock, range.clock + range.len)) return false;
  }
  return true;
}

/** True when every struct of one client's history in [from, to) exists and is deleted. */
function allDeleted(structs: (Y.Item | Y.GC)[] | undefined, from: number, to: number): boolean {
  if (from >= to) return true;
  if (!structs || structs.length === 0) return false;
  const last = structs[structs.length - 1]!;
  if (last.id.clock + last.length < to) return false;
  for (let i = Y.findIndexSS(structs, from); i < structs.length && structs[i]!.id.clock < to; i++) {
    if (!structs[i]!.deleted) return false;
  }
  return true;
}
