/**
 * Client-id claims (protocol extension v3, message 103): an editor proves that a Yjs client id is
 * its own, so that nobody else can write that id's history (issue #15).
 *
 * Yjs identifies every change by client id and clock, and a replica skips whatever it already has
 * by id. Anyone who writes clocks of somebody else's client id first — a forged edit from an
 * editor who saw the id relayed, while its owner was offline typing those very clocks — makes
 * the owner's real edits arrive as "known" and be dropped: replicas with equal state vectors and
 * different content, which no sync repairs. So before it sends anything of a client id, an
 * editor sends that id with a secret only it holds (kept with the document in local storage, so
 * a reload or a day offline still has it):
 *
 *   client → relay: varUint(103) · varUint(client id) · varUint8Array(secret, 16–64 bytes)
 *
 * The relay records the secret's fingerprint under the id in the document's server-only Y.Map
 * `clientClaims` (stored and replicated like any change; clients may not write it). From then
 * on only connections that presented the secret may write new history for that id; others'
 * writes of it wait until the owner's own clocks arrive (and are then known, so dropped). A claim
 * whose secret does not match is refused with close code 4409. Stock y-websocket clients send no
 * claims: the ids they write are owned by their connection while it is open (UpdateAdmission).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { MalformedFrameError, readFrame } from './frameReader';

export const CLAIM_MESSAGE_TYPE = 103;
/** The first protocol version with client-id claims. */
export const CLAIMS_PROTOCOL_VERSION = 3;
/** The server-only Y.Map of claims: key = client id (decimal), value = the secret's fingerprint. */
export const CLIENT_CLAIMS_MAP = 'clientClaims';
export const MIN_SECRET_BYTES = 16;
export const MAX_SECRET_BYTES = 64;

export interface ClientClaim {
  clientId: number;
  secret: Uint8Array;
}

export function encodeClientClaim(clientId: number, secret: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, CLAIM_MESSAGE_TYPE);
  encoding.writeVarUint(encoder, clientId);
  encoding.writeVarUint8Array(encoder, secret);
  return encoding.toUint8Array(encoder);
}

/** The claim in a frame, or null if it is not type 103. Throws MalformedFrameError for a bad one. */
export function decodeClientClaim(frame: Uint8Array): ClientClaim | null {
  return readFrame(frame, CLAIM_MESSAGE_TYPE, 'client-id claim', (decoder) => {
    const clientId = decoding.readVarUint(decoder);
    // Yjs client ids are 32-bit unsigned integers (Y.Doc's generateNewClientId).
    if (!Number.isSafeInteger(clientId) || clientId > 0xffff_ffff) throw new MalformedFrameError('client-id claim names an id out of range');
    const secret = decoding.readVarUint8Array(decoder);
    if (secret.byteLength < MIN_SECRET_BYTES || secret.byteLength > MAX_SECRET_BYTES) {
      throw new MalformedFrameError(`client-id claim secret must be ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes`);
    }
    return { clientId, secret };
  });
}

export function clientClaimsMap(doc: Y.Doc): Y.Map<string> {
  return doc.getMap<string>(CLIENT_CLAIMS_MAP);
}
