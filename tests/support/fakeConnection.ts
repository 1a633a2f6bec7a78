/** A RoomConnection without a socket, for room logic tests: records what the room sends it. */
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { newClientOrigin, type ClientOrigin } from '../../server/relay/origins';
import type { RoomConnection } from '../../server/relay/RoomConnection';
import { MessageType } from '../../lib/protocol/messageTypes';
import { decodeMarkStored, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';

export class FakeConnection implements RoomConnection {
  readonly origin: ClientOrigin = newClientOrigin();
  readonly canEdit: boolean;
  readonly wantsAcks: boolean;
  readonly schemaVersion: number | null;
  readonly received: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(options: { canEdit?: boolean; wantsAcks?: boolean; schemaVersion?: number | null } = {}) {
    this.canEdit = options.canEdit ?? true;
    this.wantsAcks = options.wantsAcks ?? false;
    this.schemaVersion = options.schemaVersion ?? null;
  }

  send(message: Uint8Array): void {
    this.received.push(message);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  /** The Yjs updates of every sync update frame received, in order. */
  syncUpdates(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of this.received) {
      const d = decoding.createDecoder(frame);
      if (decoding.readVarUint(d) !== MessageType.sync || decoding.readVarUint(d) !== syncProtocol.messageYjsUpdate) continue;
      out.push(decoding.readVarUint8Array(d));
    }
    return out;
  }

  /** Ids of the marks the room has answered. */
  marksAnswered(): number[] {
    return this.received.filter((f) => f[0] === MARK_MESSAGE_TYPE).map((f) => decodeMarkStored(f)!.id);
  }
}
