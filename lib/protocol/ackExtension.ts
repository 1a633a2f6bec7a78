/**
 * Concord's versioned extension to the y-websocket protocol: "saved" acknowledgements (v1) and
 * replica digests (v2).
 *
 * A client opts in with the query parameter `concord=<version>` on `/ws/<docId>`. Only then does
 * the relay send message type 100, so stock y-websocket clients never receive a type they do not
 * know. After every write to storage, and right after the handshake, the relay sends the state
 * vector of what is durably stored; a client's edit is saved once that vector covers it.
 *
 *   frame = varUint(100) · varUint8Array(stored state vector, Yjs V1 encoding)
 *
 * A state vector cannot show deletions, so a client can also ask about everything it has sent:
 * it sends a mark, and the relay answers it once every change that connection sent before the
 * mark is durably stored (at once if it already is).
 *
 *   client → relay: varUint(101) · varUint(mark id)
 *   relay → client: varUint(101) · varUint(mark id) · varUint8Array(stored state vector)
 *
 * Version 3 adds client-id claims (type 103): see lib/protocol/clientClaims.ts.
 *
 * Version 2 adds a digest check (type 102), both directions, with the same frame: a replica's
 * state vector and its digest (lib/protocol/documentDigest.ts). Equal state vectors with
 * different digests mean the replicas split (a lost deletion, content integrated differently);
 * whoever sees that repairs by exchanging full state (sync step 1 with an empty state vector).
 * The relay answers every check with its own state vector and digest.
 *
 *   varUint(102) · varUint8Array(state vector) · varUint8Array(digest)
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { readFrame } from './frameReader';

export const CONCORD_PROTOCOL_PARAM = 'concord';
/**
 * Query parameter with which an editor declares its schema version (lib/editor/schema.ts), so the
 * relay closes it with 4427 once the document records a newer one (lib/documents/schemaVersion.ts).
 */
export const SCHEMA_PARAM = 'schema';
/** 3 adds client-id claims (message 103, lib/protocol/clientClaims.ts). */
export const CONCORD_PROTOCOL_VERSION = 3;
/** The first version with digest checks (type 102). */
export const DIGEST_PROTOCOL_VERSION = 2;
export const ACK_MESSAGE_TYPE = 100;
export const MARK_MESSAGE_TYPE = 101;
export const DIGEST_MESSAGE_TYPE = 102;

export function encodeStoredAck(storedStateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, ACK_MESSAGE_TYPE);
  encoding.writeVarUint8Array(encoder, storedStateVector);
  return encoding.toUint8Array(encoder);
}

/**
 * The stored state vector carried by an ack frame, or null if the frame is not an ack.
 * Throws MalformedFrameError for a truncated ack or one with bytes left over.
 */
export function decodeStoredAck(frame: Uint8Array): Uint8Array | null {
  return readFrame(frame, ACK_MESSAGE_TYPE, 'stored-ack', decoding.readVarUint8Array);
}

export function encodeMark(id: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MARK_MESSAGE_TYPE);
  encoding.writeVarUint(encoder, id);
  return encoding.toUint8Array(encoder);
}

/**
 * The id of a client's mark, or null if the frame is not type 101. Throws MalformedFrameError
 * when it is truncated or has bytes left over (a relay's mark answer is one: see decodeMarkStored).
 */
export function decodeMark(frame: Uint8Array): number | null {
  return readFrame(frame, MARK_MESSAGE_TYPE, 'mark', decoding.readVarUint);
}

/** The relay's answer to mark `id`: everything sent before it is stored, as is `storedStateVector`. */
export function encodeMarkStored(id: number, storedStateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MARK_MESSAGE_TYPE);
  encoding.writeVarUint(encoder, id);
  encoding.writeVarUint8Array(encoder, storedStateVector);
  return encoding.toUint8Array(encoder);
}

/**
 * The mark id and stored state vector of a mark answer, or null if the frame is not type 101.
 * Throws MalformedFrameError when it is truncated (a client's mark is one) or has bytes left over.
 */
export function decodeMarkStored(frame: Uint8Array): { id: number; storedStateVector: Uint8Array } | null {
  return readFrame(frame, MARK_MESSAGE_TYPE, 'mark answer', (decoder) => {
    const id = decoding.readVarUint(decoder);
    return { id, storedStateVector: decoding.readVarUint8Array(decoder) };
  });
}

/** A replica's state vector and digest (type 102, either direction). */
export function encodeDigestCheck(stateVector: Uint8Array, digest: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, DIGEST_MESSAGE_TYPE);
  encoding.writeVarUint8Array(encoder, stateVector);
  encoding.writeVarUint8Array(encoder, digest);
  return encoding.toUint8Array(encoder);
}

/** The state vector and digest of a digest check, or null if the frame is not type 102. */
export function decodeDigestCheck(frame: Uint8Array): { stateVector: Uint8Array; digest: Uint8Array } | null {
  return readFrame(frame, DIGEST_MESSAGE_TYPE, 'digest check', (decoder) => {
    const stateVector = decoding.readVarUint8Array(decoder);
    return { stateVector, digest: decoding.readVarUint8Array(decoder) };
  });
}

/** The protocol version a `concord` query value asks for: null when absent, NaN when malformed. */
export function requestedProtocolVersion(value: string | null): number | null {
  if (value === null) return null;
  return /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
}
