/**
 * Decoders for every frame of the relay's protocol, the other half of encode.ts and
 * ackExtension.ts, by direction: type 101 is a mark from a client but a mark answer from the
 * relay, so the direction decides how it reads. Every decoder reads the whole frame and throws
 * MalformedFrameError for truncated input, bytes left over or an unknown type; payloads (updates,
 * state vectors, awareness updates) are returned as bytes, for Yjs to validate.
 * Pure: no sockets, no Node APIs.
 */
import * as decoding from 'lib0/decoding';
import * as authProtocol from 'y-protocols/auth';
import * as syncProtocol from 'y-protocols/sync';
import { ACK_MESSAGE_TYPE, decodeDigestCheck, decodeMark, decodeMarkStored, decodeStoredAck, DIGEST_MESSAGE_TYPE, MARK_MESSAGE_TYPE } from './ackExtension';
import { CLAIM_MESSAGE_TYPE, decodeClientClaim } from './clientClaims';
import { frameType, MalformedFrameError, readFrame } from './frameReader';
import { MessageType } from './messageTypes';

export { MalformedFrameError } from './frameReader';

export type SyncMessage =
  | { type: 'syncStep1'; stateVector: Uint8Array }
  | { type: 'syncStep2'; update: Uint8Array }
  | { type: 'update'; update: Uint8Array };

/** What a client may send the relay. */
export type ClientMessage =
  | SyncMessage
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'queryAwareness' }
  /** Permissions are decided at the upgrade, so a client's auth frame carries nothing to read. */
  | { type: 'auth' }
  /** Stored-ack extension: "tell me when everything I sent so far is stored". */
  | { type: 'mark'; id: number }
  | { type: 'digestCheck'; stateVector: Uint8Array; digest: Uint8Array }
  /** Extension v3: "this client id is mine", with its secret. */
  | { type: 'clientClaim'; clientId: number; secret: Uint8Array };

/** What the relay sends a client. */
export type RelayMessage =
  | SyncMessage
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'permissionDenied'; reason: string }
  | { type: 'storedAck'; storedStateVector: Uint8Array }
  | { type: 'markStored'; id: number; storedStateVector: Uint8Array }
  | { type: 'digestCheck'; stateVector: Uint8Array; digest: Uint8Array };

/** A sync frame (step 1, step 2 or update), or null if the frame is not type 0. */
export function decodeSyncMessage(frame: Uint8Array): SyncMessage | null {
  return readFrame(frame, MessageType.sync, 'sync', (decoder): SyncMessage => {
    const step = decoding.readVarUint(decoder);
    const payload = decoding.readVarUint8Array(decoder);
    switch (step) {
      case syncProtocol.messageYjsSyncStep1:
        return { type: 'syncStep1', stateVector: payload };
      case syncProtocol.messageYjsSyncStep2:
        return { type: 'syncStep2', update: payload };
      case syncProtocol.messageYjsUpdate:
        return { type: 'update', update: payload };
      default:
        throw new MalformedFrameError(`unknown sync message type ${step}`);
    }
  });
}

/** The awareness update carried by an awareness frame, or null if the frame is not type 1. */
export function decodeAwarenessMessage(frame: Uint8Array): Uint8Array | null {
  return readFrame(frame, MessageType.awareness, 'awareness', decoding.readVarUint8Array);
}

/** The reason of a permission-denied auth frame, or null if the frame is not type 2. */
export function decodePermissionDenied(frame: Uint8Array): string | null {
  return readFrame(frame, MessageType.auth, 'auth', (decoder) => {
    const kind = decoding.readVarUint(decoder);
    if (kind !== authProtocol.messagePermissionDenied) throw new MalformedFrameError(`unknown auth message type ${kind}`);
    return decoding.readVarString(decoder);
  });
}

/** True for a query-awareness frame, null if the frame is not type 3. */
export function decodeQueryAwareness(frame: Uint8Array): true | null {
  return readFrame(frame, MessageType.queryAwareness, 'query-awareness', () => true as const);
}

/** Any frame a client may send; throws MalformedFrameError for anything else. */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  const type = frameType(frame);
  switch (type) {
    case MessageType.sync:
      return decodeSyncMessage(frame)!;
    case MessageType.awareness:
      return { type: 'awareness', update: decodeAwarenessMessage(frame)! };
    case MessageType.queryAwareness:
      decodeQueryAwareness(frame);
      return { type: 'queryAwareness' };
    case MessageType.auth:
      return { type: 'auth' };
    case MARK_MESSAGE_TYPE:
      return { type: 'mark', id: decodeMark(frame)! };
    case DIGEST_MESSAGE_TYPE:
      return { type: 'digestCheck', ...decodeDigestCheck(frame)! };
    case CLAIM_MESSAGE_TYPE:
      return { type: 'clientClaim', ...decodeClientClaim(frame)! };
    default:
      throw new MalformedFrameError(`unknown client message type ${type}`);
  }
}

/** Any frame the relay may send; throws MalformedFrameError for anything else. */
export function decodeRelayMessage(frame: Uint8Array): RelayMessage {
  const type = frameType(frame);
  switch (type) {
    case MessageType.sync:
      return decodeSyncMessage(frame)!;
    case MessageType.awareness:
      return { type: 'awareness', update: decodeAwarenessMessage(frame)! };
    case MessageType.auth:
      return { type: 'permissionDenied', reason: decodePermissionDenied(frame)! };
    case ACK_MESSAGE_TYPE:
      return { type: 'storedAck', storedStateVector: decodeStoredAck(frame)! };
    case MARK_MESSAGE_TYPE:
      return { type: 'markStored', ...decodeMarkStored(frame)! };
    case DIGEST_MESSAGE_TYPE:
      return { type: 'digestCheck', ...decodeDigestCheck(frame)! };
    default:
      throw new MalformedFrameError(`unknown relay message type ${type}`);
  }
}
