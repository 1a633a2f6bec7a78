import type { ClientOrigin } from './origins';

/**
 * What a room needs from a connection: a few members. The WebSocket session implements it; unit
 * tests use fakes, so room logic is tested without sockets.
 */
export interface RoomConnection {
  /** The origin tag for every change this connection makes. */
  readonly origin: ClientOrigin;
  /** False for view-only connections: the room refuses their document changes. */
  readonly canEdit: boolean;
  /** Negotiated Concord protocol extension (lib/protocol/ackExtension.ts): receives "stored" acks. */
  readonly wantsAcks: boolean;
  /** The Concord extension version negotiated (null for stock clients); 2 adds digest checks. */
  readonly protocolVersion?: number | null;
  /**
   * The editor schema version the client declared (`?schema=`, lib/documents/schemaVersion.ts);
   * null or absent for stock clients, which the room never closes for their schema.
   */
  readonly schemaVersion?: number | null;
  send(message: Uint8Array): void;
  close(code: number, reason: string): void;
}
