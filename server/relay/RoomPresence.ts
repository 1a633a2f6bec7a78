/**
 * A room's presence (awareness): which client IDs each connection or remote origin controls, so
 * their cursors go when they leave, and where presence changes are sent (connections through
 * Fanout, listeners such as region links).
 */
import * as decoding from 'lib0/decoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { Logger } from 'pino';
import { ProtocolError } from './errors';
import { isChangeOrigin, type ChangeOrigin, type RemoteOrigin } from './origins';
import { routes } from './originPolicy';
import { describeRemote } from './describeOrigin';
import type { Fanout } from './Fanout';
import type { Room } from './Room';
import type { RoomConnection } from './RoomConnection';
import type { RoomListener } from './RoomListener';

/** What an awareness 'update' event reports. */
interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

export class RoomPresence {
  /** Awareness client IDs each connection controls, by its origin (removed when it leaves). */
  private readonly controlled = new Map<ChangeOrigin, Set<number>>();
  private readonly onAwarenessUpdate: (change: AwarenessChange, origin: unknown) => void;

  constructor(
    private readonly room: Room,
    private readonly awareness: awarenessProtocol.Awareness,
    private readonly fanout: Fanout,
    /** Read on every change, like the room's. */
    private readonly deps: { readonly listeners?: readonly RoomListener[]; readonly log: Logger },
  ) {
    // A closure made here, not an arrow class field: see the note in Room's constructor.
    this.onAwarenessUpdate = (change, origin) => this.handleAwarenessUpdate(change, origin);
    awareness.on('update', this.onAwarenessUpdate);
  }

  /** A connection joined: it controls the client IDs it adds from now on. */
  track(origin: ChangeOrigin): void {
    this.controlled.set(origin, new Set());
  }

  /** Removes the presence `origin` controlled (its cursors disappear for everyone). */
  forget(origin: ChangeOrigin): void {
    const clients = this.controlled.get(origin);
    this.controlled.delete(origin);
    if (clients && clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, Array.from(clients), origin);
  }

  receive(conn: RoomConnection, decoder: decoding.Decoder): void {
    try {
      const update = decoding.readVarUint8Array(decoder);
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, conn.origin);
    } catch (cause) {
      throw new ProtocolError('invalid awareness message', { cause });
    }
  }

  /** Presence from a peer region's (or another instance's) clients. */
  applyRemote(origin: RemoteOrigin, update: Uint8Array): void {
    if (!this.controlled.has(origin)) this.controlled.set(origin, new Set());
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, origin);
    } catch (err) {
      this.deps.log.warn({ err, docId: this.room.docId, from: describeRemote(origin) }, 'invalid remote presence; dropped');
    }
  }

  stop(): void {
    this.awareness.off('update', this.onAwarenessUpdate);
  }

  private handleAwarenessUpdate({ added, updated, removed }: AwarenessChange, origin: unknown): void {
    const controlled = isChangeOrigin(origin) ? this.controlled.get(origin) : undefined;
    if (controlled) {
      for (const id of added) controlled.add(id);
      for (const id of removed) controlled.delete(id);
    }
    const changed = added.concat(updated, removed);
    this.fanout.presenceChanged(changed);
    const listeners = this.deps.listeners;
    if (!listeners || !isChangeOrigin(origin)) return;
    let update: Uint8Array | null = null;
    for (const listener of listeners) {
      if (!listener.onPresence || !routes(origin, listener.destination)) continue;
      update ??= awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
      listener.onPresence(this.room, update, origin);
    }
  }
}
