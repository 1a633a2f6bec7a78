/**
 * How a room's saver sees the room (DocumentSaver's SaverHooks): the snapshot and state vector it
 * stores from, how far the room's listeners let it compact, which peer regions a batch is marked
 * for, and what it reports back (stored, deleted).
 */
import * as Y from 'yjs';
import type { SaverHooks } from './DocumentSaver';
import { routes } from './originPolicy';
import type { RoomDeps } from './RoomDeps';
import type { Room } from './Room';

/** The room's own state the hooks read and update (kept private in Room). */
export interface SaverSide {
  /** A change failed half-way: nothing may be compacted or acknowledged from the document. */
  corrupted(): boolean;
  /** A compaction snapshot of this many bytes was taken (the room's size estimate restarts from it). */
  snapshotTaken(bytes: number): void;
  /** Everything up to this state vector is stored: tell the connections. */
  stored(stateVector: Uint8Array): void;
}

export function roomSaverHooks(room: Room, deps: RoomDeps, side: SaverSide): SaverHooks {
  // Methods, not arrows in an object literal: tsx compiles with esbuild's keepNames, which gives
  // each named arrow a property dictionary (~250 bytes apiece, per room).
  return {
    snapshot() {
      if (side.corrupted()) throw new Error('the document failed a change and is being reloaded; not compacting from it');
      const snapshot = Y.encodeStateAsUpdate(room.doc);
      side.snapshotTaken(snapshot.byteLength);
      return snapshot;
    },
    stateVector() {
      // A corrupted document's state vector may count what storage never received.
      return side.corrupted() ? null : Y.encodeStateVector(room.doc);
    },
    compactableThrough() {
      let through = Infinity;
      for (const listener of deps.listeners ?? []) through = Math.min(through, listener.compactableThrough?.(room) ?? Infinity);
      return through;
    },
    compactionLease() {
      return deps.listeners?.find((listener) => listener.compactionLease)?.compactionLease?.(room);
    },
    onSaved(_batch, _seq, storedStateVector) {
      if (storedStateVector) side.stored(storedStateVector);
    },
    onDeleted() {
      deps.onDeleted?.(room);
    },
    appendOptions(batch) {
      const peers = deps.dirtyFor?.();
      if (!peers || peers.length === 0 || !batch.some((p) => routes(p.origin, 'regions'))) return undefined;
      return { dirtyFor: peers };
    },
  };
}
