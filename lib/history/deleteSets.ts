/**
 * Delete sets for version diffs: a diff between two versions carries only the deletions made
 * since the older one, not the document's whole delete set again (which, on a long-lived
 * document, is most of a diff's size). Written in Yjs's V1 update encoding, which is part of its
 * wire format.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/** Deleted ranges per client: sorted by clock, merged, not overlapping (as Yjs builds them). */
export type DeletedRanges = Map<number, { clock: number; len: number }[]>;

export function deletedRanges(doc: Y.Doc): DeletedRanges {
  return Y.createDeleteSetFromStructStore(doc.store).clients;
}

/** The parts of `now` that `before` does not cover. */
export function subtractRanges(now: DeletedRanges, before: DeletedRanges): DeletedRanges {
  const result: DeletedRanges = new Map();
  for (const [client, ranges] of now) {
    const old = before.get(client) ?? [];
    const left: { clock: number; len: number }[] = [];
    let j = 0;
    for (const range of ranges) {
      let start = range.clock;
      const end = range.clock + range.len;
      while (j < old.length && old[j]!.clock + old[j]!.len <= start) j++;
      for (let k = j; k < old.length && old[k]!.clock < end; k++) {
        const o = old[k]!;
        if (o.clock > start) left.push({ clock: start, len: o.clock - start });
        start = Math.max(start, o.clock + o.len);
      }
      if (start < end) left.push({ clock: start, len: end - start });
    }
    if (left.length > 0) result.set(client, left);
  }
  return result;
}

/** The delete-set section of a V1 update (clients in Yjs's order: descending). */
export function encodeDeletedRanges(ranges: DeletedRanges): Uint8Array {
  const encoder = encoding.createEncoder();
  const clients = [...ranges.entries()].sort((a, b) => b[0] - a[0]);
  encoding.writeVarUint(encoder, clients.length);
  for (const [client, items] of clients) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, items.length);
    for (const { clock, len } of items) {
      encoding.writeVarUint(encoder, clock);
      encoding.writeVarUint(encoder, len);
    }
  }
  return encoding.toUint8Array(encoder);
}

/**
 * `doc`'s content since `stateVector` with only the deletions `since` does not hold, or null
 * when the update's layout is not the expected one (the caller then stores a whole diff).
 */
export function diffSince(doc: Y.Doc, stateVector: Uint8Array, since: DeletedRanges, now: DeletedRanges = deletedRanges(doc)): Uint8Array | null {
  const full = Y.encodeStateAsUpdate(doc, stateVector);
  const wholeDeletes = encodeDeletedRanges(now);
  // A V1 update is its structs followed by its delete set: cut the one, put the smaller one in.
  if (full.byteLength < wholeDeletes.byteLength) return null;
  const tail = full.subarray(full.byteLength - wholeDeletes.byteLength);
  for (let i = 0; i < tail.byteLength; i++) if (tail[i] !== wholeDeletes[i]) return null;
  const structs = full.subarray(0, full.byteLength - wholeDeletes.byteLength);
  const newDeletes = encodeDeletedRanges(subtractRanges(now, since));
  const out = new Uint8Array(structs.byteLength + newDeletes.byteLength);
  out.set(structs);
  out.set(newDeletes, structs.byteLength);
  return out;
}

/** Reads what encodeDeletedRanges wrote. Throws RangeError on bytes it did not write. */
export function decodeDeletedRanges(bytes: Uint8Array): DeletedRanges {
  const decoder = decoding.createDecoder(bytes);
  const result: DeletedRanges = new Map();
  try {
    const clients = decoding.readVarUint(decoder);
    for (let c = 0; c < clients; c++) {
      const client = decoding.readVarUint(decoder);
      const count = decoding.readVarUint(decoder);
      const items: { clock: number; len: number }[] = [];
      for (let i = 0; i < count; i++) items.push({ clock: decoding.readVarUint(decoder), len: decoding.readVarUint(decoder) });
      result.set(client, items);
    }
  } catch (cause) {
    throw new RangeError('malformed delete set', { cause });
  }
  if (decoding.hasContent(decoder)) throw new RangeError('malformed delete set: trailing bytes');
  return result;
}

/** True when `ranges` deletes the character `client`:`clock`. */
export function rangesContain(ranges: DeletedRanges, client: number, clock: number): boolean {
  const items = ranges.get(client);
  if (!items) return false;
  let low = 0;
  let high = items.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const item = items[mid]!;
    if (clock < item.clock) high = mid - 1;
    else if (clock >= item.clock + item.len) low = mid + 1;
    else return true;
  }
  return false;
}
