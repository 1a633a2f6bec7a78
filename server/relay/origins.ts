/**
 * Where a change came from. Every Y.Doc transaction on the server carries one of these as its
 * origin, so a change is never sent back where it came from (the echo loops of hocuspocus
 * #340/#730 were exactly this) and changes loaded from storage are not stored again.
 */

/** A browser or other client connected to this relay. One object per connection, compared by identity. */
export interface ClientOrigin {
  readonly kind: 'client';
  readonly connectionId: number;
}

/** Loaded from this server's own storage. */
export interface StorageOrigin {
  readonly kind: 'storage';
}

/** Made by the server itself (maintenance, seeding). */
export interface ServerOrigin {
  readonly kind: 'server';
}

/** Received from another leader (another region's relay); reserved for replication. */
export interface PeerOrigin {
  readonly kind: 'peer';
  readonly peerId: string;
}

/** Received from another instance of this region (same storage), over the bus between instances. */
export interface InstanceOrigin {
  readonly kind: 'instance';
  readonly instanceId: string;
  /**
   * That instance had it from a peer region (it holds the region links), not from its own
   * clients: like a PeerOrigin change, it is never sent over the links again.
   */
  readonly fromPeerRegion?: true;
}

export type ChangeOrigin = ClientOrigin | StorageOrigin | ServerOrigin | PeerOrigin | InstanceOrigin;

/** Origins of changes applied from outside this server's own connections (see Room.applyRemoteUpdate). */
export type RemoteOrigin = PeerOrigin | InstanceOrigin;

export const STORAGE_ORIGIN: StorageOrigin = Object.freeze({ kind: 'storage' });
export const SERVER_ORIGIN: ServerOrigin = Object.freeze({ kind: 'server' });

let nextConnectionId = 1;

export function newClientOrigin(): ClientOrigin {
  return Object.freeze({ kind: 'client', connectionId: nextConnectionId++ });
}

/** Narrowing helper for the untyped `origin` Yjs hands to event listeners. */
export function isChangeOrigin(value: unknown): value is ChangeOrigin {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}
