/**
 * Concord's versioned extension to the y-websocket protocol: "saved" acknowledgements.
 *
 * A client opts in with the query parameter `concord=<version>` on `/ws/<docId>`. Only then does
 * the relay send message type 100, so stock y-websocket clients never receive a type they do not
 * know. After every write to storage, and right after the handshake, the relay sends the state
 * vector of what is durably stored; a client's edit is saved once that vector covers it.
 *
 *   frame = varUint(100) · varUint8Array(stored state vector, Yjs V1 encoding)
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

export const CONCORD_PROTOCOL_PARAM = 'concord';
export const CONCORD_PROTOCOL_VERSION = 1;
export const ACK_MESSAGE_TYPE = 100;

export function encodeStoredAck(storedStateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, ACK_MESSAGE_TYPE);
  encoding.writeVarUint8Array(encoder, storedStateVector);
  return encoding.toUint8Array(encoder);
}

/** The stored state vector carried by an ack frame, or null if the frame is not an ack. */
export function decodeStoredAck(frame: Uint8Array): Uint8Array | null {
  const decoder = decoding.createDecoder(frame);
  if (decoding.readVarUint(decoder) !== ACK_MESSAGE_TYPE) return null;
  return decoding.readVarUint8Array(decoder);
}

/** The protocol version a `concord` query value asks for: null when absent, NaN when malformed. */
export function requestedProtocolVersion(value: string | null): number | null {
  if (value === null) return null;
  return /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
}
