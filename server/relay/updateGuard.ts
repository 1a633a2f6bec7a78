/**
 * Checks a client's Yjs update before it touches a room's document. Yjs has no validator and a
 * crafted update can throw half-way through integration or hang the decoder (yjs #479, #498,
 * #687; y-websocket #82), so we decode it completely on its own first: a malformed update fails
 * here, with the room untouched.
 */
import * as Y from 'yjs';
import { ProtocolError } from './errors';

/** Throws ProtocolError unless `update` is a well-formed V1 update. */
export function assertWellFormedUpdate(update: Uint8Array): void {
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
}

/** True when applying `update` to `doc` would add or delete anything. */
export function wouldChange(doc: Y.Doc, update: Uint8Array): boolean {
  const missing = Y.diffUpdate(update, Y.encodeStateVector(doc));
  const { structs, ds } = Y.decodeUpdate(missing);
  return structs.length > 0 || ds.clients.size > 0;
}

/** Bytes of update data the document holds but cannot integrate yet (missing dependencies). */
export function pendingBytes(doc: Y.Doc): number {
  const store = doc.store;
  return (store.pendingStructs?.update.byteLength ?? 0) + (store.pendingDs?.byteLength ?? 0);
}

/** Drops data that cannot be integrated (used when a connection exceeds the pending cap). */
export function dropPending(doc: Y.Doc): void {
  doc.store.pendingStructs = null;
  doc.store.pendingDs = null;
}
