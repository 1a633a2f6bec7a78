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
