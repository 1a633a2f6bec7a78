import type { ChangeOrigin } from './origins';
import type { Destination } from './originPolicy';
import type { Room } from './Room';

/** What a change deleted: per Yjs client, the deleted clock ranges. */
export type DeletedItems = ReadonlyMap<number, readonly { clock: number; len: number }[]>;

/**
 * Something besides the room's connections that takes its changes: a region link, a bus between
 * instances, the history recorder. It names its destination and the room hands it exactly the
 * completed changes that originPolicy routes there, so it never decides echo rules itself.
 */
export interface RoomListener {
  readonly destination: Destination;
  /**
   * A completed change (already checked, applied and queued for storage), with what its
   * transaction deleted (Yjs's delete set of it: per client, sorted, merged; never changed after
   * the transaction, so a listener may keep it).
   */
  onChange(room: Room, update: Uint8Array, origin: ChangeOrigin, deleted?: DeletedItems): void;
  /** Presence changed by `origin` (encoded awareness update of the clients it changed). */
  onPresence?(room: Room, update: Uint8Array, origin: ChangeOrigin): void;
  /**
   * A document is about to be loaded from storage; the load waits for this (which must not
   * reject). The bus between instances subscribes here, so no live change falls between what the
   * load reads and what it receives.
   */
  beforeLoad?(docId: string): Promise<void>;
  /** A room was just loaded from storage (registered, nothing attached to it yet). */
  loaded?(room: Room): void;
  /**
   * With other writers on the same storage (other instances), the sequence number through which
   * every stored entry is known to be in the room's document; compaction goes no further, so it
   * never replaces an entry the snapshot lacks. Undefined: no limit from this listener.
   */
  compactableThrough?(room: Room): number | undefined;
  /**
   * Before the room compacts: resolves with the function that lets go, or null when another
   * instance is compacting this document now (this compaction is skipped). Only saves work:
   * compactableThrough is what keeps a compaction from losing anything.
   */
  compactionLease?(room: Room): Promise<(() => void) | null>;
}
