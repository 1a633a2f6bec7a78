/**
 * A client connection's frames, decoded: which message each is, and whether this connection may
 * send it (the acks, digest and claims extensions exist only for clients that negotiated them).
 * The room acts on what this hands it (ClientFrameHandler); a frame that is not a valid message
 * throws ProtocolError, and the caller closes the connection.
 */
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { MessageType } from '../../lib/protocol/messageTypes';
import { DIGEST_MESSAGE_TYPE, DIGEST_PROTOCOL_VERSION, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import { CLAIM_MESSAGE_TYPE, CLAIMS_PROTOCOL_VERSION } from '../../lib/protocol/clientClaims';
import { ProtocolError } from './errors';
import type { Metrics } from '../metrics';
import type { RoomConnection } from './RoomConnection';

/** What a client's frames ask of its room. */
export interface ClientFrameHandler {
  /** Sync step 1: the client's state vector; answer with what it lacks. */
  syncStep1(conn: RoomConnection, stateVector: Uint8Array): void;
  /** Sync step 2 or an update: a change to check and apply. */
  update(conn: RoomConnection, update: Uint8Array): void;
  /** An awareness update, positioned after its message type. */
  presence(conn: RoomConnection, decoder: decoding.Decoder): void;
  /** The client asks for everyone's presence. */
  presenceQuery(conn: RoomConnection): void;
  /** A mark (acks extension), positioned after its message type. */
  mark(conn: RoomConnection, decoder: decoding.Decoder): void;
  /** A digest check (extension version 2), the whole frame. */
  digestCheck(conn: RoomConnection, message: Uint8Array): void;
  /** A client-id claim (claims extension), the whole frame. */
  claim(conn: RoomConnection, message: Uint8Array): void;
}

/** Decodes one incoming frame of `conn` and hands it to `handler`. Throws ProtocolError for a frame that is not a valid message. */
export function dispatchClientFrame(conn: RoomConnection, message: Uint8Array, handler: ClientFrameHandler, metrics: Pick<Metrics, 'messageIn'>): void {
  const decoder = decoding.createDecoder(message);
  let type: number;
  try {
    type = decoding.readVarUint(decoder);
  } catch (cause) {
    throw new ProtocolError('empty or truncated frame', { cause });
  }
  metrics.messageIn(type, message.byteLength);
  switch (type) {
    case MessageType.sync:
      dispatchSync(conn, decoder, handler);
      return;
    case MessageType.awareness:
      handler.presence(conn, decoder);
      return;
    case MessageType.queryAwareness:
      handler.presenceQuery(conn);
      return;
    case MessageType.auth:
      // Permissions are decided at the upgrade; an auth frame from a client carries nothing we use.
      return;
    case MARK_MESSAGE_TYPE:
      // Only clients that negotiated the extension may use it; to others it is unknown.
      if (!conn.wantsAcks) throw new ProtocolError(`unknown message type ${type}`);
      handler.mark(conn, decoder);
      return;
    case DIGEST_MESSAGE_TYPE:
      if ((conn.protocolVersion ?? 0) < DIGEST_PROTOCOL_VERSION) throw new ProtocolError(`unknown message type ${type}`);
      handler.digestCheck(conn, message);
      return;
    case CLAIM_MESSAGE_TYPE:
      if ((conn.protocolVersion ?? 0) < CLAIMS_PROTOCOL_VERSION) throw new ProtocolError(`unknown message type ${type}`);
      handler.claim(conn, message);
      return;
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
}

function dispatchSync(conn: RoomConnection, decoder: decoding.Decoder, handler: ClientFrameHandler): void {
  let step: number;
  let payload: Uint8Array;
  try {
    step = decoding.readVarUint(decoder);
    payload = decoding.readVarUint8Array(decoder);
  } catch (cause) {
    throw new ProtocolError('truncated sync message', { cause });
  }
  switch (step) {
    case syncProtocol.messageYjsSyncStep1:
      handler.syncStep1(conn, payload);
      return;
    case syncProtocol.messageYjsSyncStep2:
    case syncProtocol.messageYjsUpdate:
      handler.update(conn, payload);
      return;
    default:
      throw new ProtocolError(`unknown sync message type ${step}`);
  }
}
