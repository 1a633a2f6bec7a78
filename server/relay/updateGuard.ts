/**
 * Checks a client's Yjs update before it touches a room's document. Yjs has no validator: a
 * crafted update can throw half-way through integration, hang the decoder (yjs #479, #498, #687;
 * y-websocket #82), or — worse, because nothing fails — wait in the document as "pending" data and
 * be integrated later, at a moment other replicas never see, which splits them with equal state
 * vectors. So an update is decoded completely on its own first, every reference it makes is
 * checked against the document, and it is applied only when it can be integrated whole, now.
 */
import * as Y from 'yjs';
import { ProtocolError } from './errors';

/**
 * What applying an update would do: integrate completely, or leave something waiting for data
 * the document does not have yet (a gap in a client's clock, a reference to an unknown item, a
 * deletion of unknown content). Malformed updates throw ProtocolError instead.
 */
export type UpdateReadiness = { complete: true; writes: ClientWrites } | { complete: false; needs: NeededClock };

/** The clients an update writes new history for (beyond what the document has), and the clock each reaches. */
export type ClientWrites = ReadonlyMap<number, number>;

/** The first thing an incomplete update waits for: client `client`'s history up to `clock`. */
export interface NeededClock {
  client: number;
  clock: number;
}


/** Throws ProtocolError unless `update` is a well-formed V1 update. */
export function assertWellFormedUpdate(update: Uint8Array): ReturnType<typeof Y.decodeUpdate> {
  // An empty buffer made lib0's readVarUint loop forever in older versions (yjs #498).
  if (update.byteLength < 2) throw new ProtocolError('empty update');
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    // V1 only: the y-websocket protocol never carries V2, so V2 (or anything else) fails here.
    decoded = Y.decodeUpdate(update);
  } catch (cause) {
    throw new ProtocolError('update could not be decoded', { cause });
  }
  for (const struct of decoded.structs) {
    // A struct longer than the safe integer range would corrupt clocks for every peer.
    if (!Number.isSafeInteger(struct.id.clock + struct.length) || struct.length < 0) {
      throw new ProtocolError('update has an out-of-range clock');
    }
  }
  return decoded;
}

/** A root type only the server writes (the client-id claims), refused in clients' updates. */
export interface ServerOnlyRoot {
  name: string;
  type: Y.AbstractType<any>;
  /** The client ids that wrote any of its entries: only an item of theirs can be a neighbour in it. */
  writers: ReadonlySet<number>;
}

/**
 * Decodes `update` and checks it against `doc`: throws ProtocolError for anything no Yjs replica
 * produces (references forward in its own client's history, a parent that is not a type, left
 * and right neighbours in different places), and for new content in `serverOnly`; returns
 * whether it can be integrated whole now.
 */
export function checkUpdate(doc: Y.Doc, update: Uint8Array, serverOnly?: ServerOnlyRoot): UpdateReadiness {
  const { structs, ds } = assertWellFormedUpdate(update);
  const store = doc.store;
  // The clock each client reaches once the update's own structs are integrated.
  const reached = new Map<number, number>();
  const stateOf = (client: number) => reached.get(client) ?? Y.getState(store, client);
  let needs: NeededClock | null = null;
  for (const struct of structs) {
    const { client, clock } = struct.id;
    const state = stateOf(client);
    // A gap (or a Skip, which marks one): the structs before it are missing.
    if (clock > state || struct instanceof Y.Skip) needs ??= { client, clock: clock > state ? clock - 1 : clock };
    else if (clock + struct.length > state) reached.set(client, clock + struct.length);
  }
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    // Yjs resolves the references of every struct, even of history it already has (and keeps
    // the whole update pending when one is missing), so known structs are checked too.
    const known = struct.id.clock + struct.length <= Y.getState(store, struct.id.client);
    const origin = checkReference(struct, struct.origin, 'left neighbour');
    const right = checkReference(struct, struct.rightOrigin, 'right neighbour');
    const parent = struct.parent instanceof Y.ID ? checkReference(struct, struct.parent, 'parent') : null;
    if (known && (origin === 'later' || right === 'later' || parent === 'later')) {
      // Its references were all known when we integrated it: this is rewritten history.
      throw new ProtocolError('update carries known history with references nobody has sent');
    }
    if (known) continue;
    if (serverOnly !== undefined) checkNotServerOnly(struct, origin, right, serverOnly);
    if (origin === 'later' || right === 'later' || parent === 'later') {
      const ref = (origin === 'later' ? struct.origin : right === 'later' ? struct.rightOrigin : struct.parent) as Y.ID;
      needs ??= { client: ref.client, clock: ref.clock };
      continue;
    }
    if (struct.parent instanceof Y.ID && parent === 'known') {
      const parentItem = Y.getItem(store, struct.parent);
      if (parentItem instanceof Y.Item && !(parentItem.content instanceof Y.ContentType)) {
        throw new ProtocolError('update names a parent that is not a shared type');
      }
    }
    // Neighbours in different lists are caught after integration (assertPlacedBetweenNeighbours),
    // which covers references into the update itself too, at no lookup cost here.
  }
  for (const [client, deletes] of ds.clients) {
    const state = stateOf(client);
    for (const item of deletes) {
      if (!Number.isSafeInteger(item.clock + item.len) || item.len < 0) throw new ProtocolError('update deletes an out-of-range clock');
      if (item.clock + item.len > state) needs ??= { client, clock: item.clock + item.len - 1 };
    }
  }
  if (serverOnly !== undefined && serverOnly.type._map.size > 0) checkDeletesNotServerOnly(serverOnly);
  return needs === null ? { complete: true, writes: reached } : { complete: false, needs };

  /**
   * New content placed into `root`: named as its parent, or next to one of its entries (a map
   * entry overwriting a key names only the entry it replaces). Placements relative to other new
   * content in the update are caught after integration (Room.change).
   */
  function checkNotServerOnly(struct: Y.Item, origin: string | null, right: string | null, root: ServerOnlyRoot): void {
    // A decoded struct names a root parent by its name (Yjs types it as a type or an ID).
    if ((struct.parent as unknown) === root.name) throw new ProtocolError(`update writes ${root.name}, which only the server may`);
    // The struct names its parent, or neither neighbour is by a client that wrote the root (the
    // servers): no lookups, so a keystroke pays two set lookups.
    if (struct.parent !== null) return;
    if (origin === 'known') checkNeighbour(struct.origin!, root);
    if (right === 'known') checkNeighbour(struct.rightOrigin!, root);
  }

  function checkNeighbour(ref: Y.ID, root: ServerOnlyRoot): void {
    if (!root.writers.has(ref.client)) return;
    const neighbour = Y.getItem(store, ref);
    if (neighbour instanceof Y.Item && neighbour.parent === root.type) throw new ProtocolError(`update writes ${root.name}, which only the server may`);
  }

  /** No deletion of `root`'s entries (the deletions of content this document has; the rest wait). */
  function checkDeletesNotServerOnly(root: ServerOnlyRoot): void {
    for (const [client, deletes] of ds.clients) {
      // Only the root's writers (servers) have items in it: people's deletions need no lookup.
      if (!root.writers.has(client)) continue;
      const structs = store.clients.get(client);
      if (structs === undefined) continue;
      const known = Y.getState(store, client);
      for (const range of deletes) {
        const end = Math.min(range.clock + range.len, known);
        if (range.clock >= end) continue;
        for (let i = Y.findIndexSS(structs, range.clock); i < structs.length && structs[i]!.id.clock < end; i++) {
          const struct = structs[i]!;
          if (struct instanceof Y.Item && struct.parent === root.type) throw new ProtocolError(`update deletes from ${root.name}, which only the server may`);
        }
      }
    }
  }

  /**
   * Where a reference points: into the document as it is ('known'), into this update's own
   * structs ('inUpdate'), beyond what anyone has sent yet ('later'), or nowhere (null).
   */
  function checkReference(struct: Y.Item, ref: Y.ID | null, what: string): 'known' | 'inUpdate' | 'later' | null {
    if (ref === null) return null;
    if (!Number.isSafeInteger(ref.clock) || ref.clock < 0) throw new ProtocolError(`update has an out-of-range ${what}`);
    if (ref.client === struct.id.client) {
      // A replica only ever refers back in its own history.
      if (ref.clock >= struct.id.clock) throw new ProtocolError(`update refers forward in its own history (${what})`);
      return ref.clock < Y.getState(store, ref.client) ? 'known' : 'inUpdate';
    }
    if (ref.clock < Y.getState(store, ref.client)) return 'known';
    // Into this update's own structs (Yjs integrates those first), or beyond anything sent yet.
    return ref.clock < stateOf(ref.client) ? 'inUpdate' : 'later';
  }
}

/**
 * After integration, inside the transaction: every item it added sits between the neighbours it
 * named — its left neighbour (origin) somewhere to its left, its right neighbour (rightOrigin)
 * somewhere to its right, in the same list. An item that names neighbours in the wrong order, or
 * one as both, is placed by Yjs's conflict scan wherever that scan happens to stop, which depends
 * on what else the replica holds: replicas then show the same items in different orders, with
 * equal state vectors. Yjs scans the items between the two neighbours while integrating, so
 * walking the same stretch again costs about what integrating did. Throws on a misplaced item.
 */
export function assertPlacedBetweenNeighbours(transaction: Y.Transaction, clients?: Iterable<number>): void {
  const store = transaction.doc.store;
  // The clients whose history the change wrote (checkUpdate's writes), else every client.
  for (const client of clients ?? store.clients.keys()) checkClientFrom(client, transaction.beforeState.get(client) ?? 0);

  function checkClientFrom(client: number, clock: number): void {
    const structs = store.clients.get(client);
    if (!structs || Y.getState(store, client) <= clock) return;
    for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
      const item = structs[i];
      // Items that became garbage (a neighbour was collected) are in no list.
      if (!(item instanceof Y.Item) || item.parent === null) continue;
      // Its neighbours share its list: a struct that overlaps known history is cut by Yjs and
      // re-anchored on that history's last item, wherever that is (a forged overlap moved text
      // into an attribute).
      for (const neighbour of [item.left, item.right]) {
        if (neighbour !== null && (neighbour.parent !== item.parent || neighbour.parentSub !== item.parentSub)) {
          throw new Error(`item ${client}:${item.id.clock} is linked into another list than its own`);
        }
      }
      if (item.origin !== null && !hasToTheLeft(item, item.origin)) throw new Error(`item ${client}:${item.id.clock} is not right of its left neighbour`);
      if (item.rightOrigin !== null && !hasToTheRight(item, item.rightOrigin)) throw new Error(`item ${client}:${item.id.clock} is not left of its right neighbour`);
    }
  }
}

function contains(item: Y.Item, id: Y.ID): boolean {
  return item.id.client === id.client && id.clock >= item.id.clock && id.clock < item.id.clock + item.length;
}

function hasToTheLeft(item: Y.Item, id: Y.ID): boolean {
  for (let o = item.left; o !== null; o = o.left) if (contains(o, id)) return true;
  return false;
}

function hasToTheRight(item: Y.Item, id: Y.ID): boolean {
  for (let o = item.right; o !== null; o = o.right) if (contains(o, id)) return true;
  return false;
}

/** True when applying `update` to `doc` would add or delete anything. */
export function wouldChange(doc: Y.Doc, update: Uint8Array): boolean {
  const missing = Y.diffUpdate(update, Y.encodeStateVector(doc));
  const { structs, ds } = Y.decodeUpdate(missing);
  return structs.length > 0 || ds.clients.size > 0;
}

/** True when the document holds update data it could not integrate. */
export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}
