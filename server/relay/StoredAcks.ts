/**
 * The "stored" side of the Concord protocol extension (lib/protocol/ackExtension.ts): tells the
 * connections that negotiated it what is durably stored, and answers their marks once everything
 * they sent before one is stored.
 */
import * as decoding from 'lib0/decoding';
import { ACK_MESSAGE_TYPE, encodeMarkStored, encodeStoredAck, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import type { DocumentSaver } from './DocumentSaver';
import { ProtocolError } from './errors';
import type { RoomConnection } from './RoomConnection';
import type { UpdateAdmission } from './UpdateAdmission';

export type SendToConnection = (conn: RoomConnection, type: number, message: Uint8Array) => void;

export class StoredAcks {
  /** State vector of what is durably stored (everything loaded, plus every saved batch). */
  private storedStateVector: Uint8Array;

  constructor(
    private readonly connections: ReadonlySet<RoomConnection>,
    private readonly saver: Pick<DocumentSaver, 'afterQueuedStored'>,
    private readonly admission: Pick<UpdateAdmission, 'queueMark'>,
    private readonly send: SendToConnection,
    storedStateVector: Uint8Array,
  ) {
    this.storedStateVector = storedStateVector;
  }

  /** A (re)connecting client learns at once which of its edits are already safe. */
  greet(conn: RoomConnection): void {
    if (conn.wantsAcks) this.send(conn, ACK_MESSAGE_TYPE, encodeStoredAck(this.storedStateVector));
  }

  /**
   * Answers a mark once everything this connection sent before it is stored. Its changes were
   * queued for storage as they were applied, so "everything queued so far" covers them.
   */
  receiveMark(conn: RoomConnection, decoder: decoding.Decoder): void {
    let id: number;
    try {
      id = decoding.readVarUint(decoder);
    } catch (cause) {
      throw new ProtocolError('truncated mark message', { cause });
    }
    // Something it sent is still waiting for its dependencies: answer once that is applied.
    if (!this.admission.queueMark(conn.origin, id)) this.answerMark(conn, id);
  }

  answerMark(conn: RoomConnection, id: number): void {
    this.saver.afterQueuedStored(() => this.send(conn, MARK_MESSAGE_TYPE, encodeMarkStored(id, this.storedStateVector)));
  }

  /** Tells every connection that negotiated acks what is now durably stored. */
  acknowledge(storedStateVector: Uint8Array): void {
    this.storedStateVector = storedStateVector;
    let message: Uint8Array | null = null;
    for (const conn of this.connections) {
      if (!conn.wantsAcks) continue;
      message ??= encodeStoredAck(storedStateVector);
      this.send(conn, ACK_MESSAGE_TYPE, message);
    }
  }
}
