import type { ChangeOrigin } from './origins';
import type { Destination } from './originPolicy';
import type { Room } from './Room';

/**
 * Something besides the room's connections that takes its changes: a region link, a bus between
 * instances, the history recorder. It names its destination and the room hands it exactly the
 * completed changes that originPolicy routes there, so it never decides echo rules itself.
 */
export interface RoomListener {
  readonly destination: Destination;
  /** A completed change (already checked, applied and queued for storage). */
  onChange(room: Room, update: Uint8Array, origin: ChangeOrigin): void;
  /** Presence changed by `origin` (encoded awareness update of the clients it changed). */
  onPresence?(room: Room, update: Uint8Array, origin: ChangeOrigin): void;
}
