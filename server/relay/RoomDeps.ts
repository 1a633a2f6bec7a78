import type { Logger } from 'pino';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Metrics } from '../metrics';
import type { SaverOptions } from './DocumentSaver';
import type { Room } from './Room';
import type { RoomListener } from './RoomListener';
import type { SendBatcher } from './SendBatcher';

export interface RoomLimits {
  /** Approximate stored size at which the document stops accepting changes. */
  maxDocumentBytes: number;
  /** Update data that cannot be integrated yet (missing dependencies) one connection may have waiting. */
  maxPendingBytes: number;
}

/**
 * What happens to a change made outside `Room.change` (no ChangeOrigin): 'throw' reports it as an
 * uncaught error (tests), 'store' logs it at error level and stores and relays it as the server's
 * own change, so it can never reach clients without reaching storage (production).
 */
export type UntaggedChangePolicy = 'throw' | 'store';

export const DEFAULT_UNTAGGED_CHANGE_POLICY: UntaggedChangePolicy =
  process.env.VITEST || process.env.NODE_ENV === 'test' ? 'throw' : 'store';

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxDocumentBytes: 64 * 1024 * 1024,
  maxPendingBytes: 1024 * 1024,
};

export interface RoomDeps {
  store: DocumentStore;
  log: Logger;
  metrics: Metrics;
  saverOptions?: SaverOptions;
  limits?: RoomLimits;
  /**
   * Called when applying a well-formed-looking update threw half-way: the in-memory document may
   * be inconsistent, so the owner reloads it from storage.
   */
  onCorrupted?: (room: Room) => void;
  /** Called when storage refused a write because the document is deleted: its saver has stopped for good. */
  onDeleted?: (room: Room) => void;
  untaggedChanges?: UntaggedChangePolicy;
  /** Everything besides connections that takes this room's changes (region links, …); read on every change. */
  listeners?: readonly RoomListener[];
  /** Peer regions a change routed to 'regions' must reach: stored changes mark them dirty in the same transaction. */
  dirtyFor?: () => readonly string[];
  /**
   * When given (the relay), changes are collected and sent in batches: updates once the task that
   * applied them is over, presence at the end of the event-loop turn (see Fanout); without it
   * (unit tests, tools) each change is sent at once.
   */
  batcher?: SendBatcher;
}
