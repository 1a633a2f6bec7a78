/**
 * The frames of a cluster link's handshake (server/replication/handshake.ts), as binary lib0
 * frames: a message type first, then the link protocol version, then the fields. Pure: no
 * sockets. Decoders are strict (lib/protocol/frameReader.ts): a truncated frame, bytes left over,
 * a field out of bounds or a name that is not a region name throw MalformedFrameError, never a
 * plausible wrong value. The version comes right after the type so that a peer of another
 * version is told so (4493) instead of failing to parse a layout it does not know.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MalformedFrameError, readFrame } from '../../lib/protocol/frameReader';
import { REGION_NAME } from '../config';

/** The link protocol version this server speaks. */
/** Where regions open links to each other (never a client path). */
export const CLUSTER_LINK_PATH = '/cluster/link';

export const LINK_PROTOCOL_VERSION = 1;

/** Message types of a link. The handshake's are below 16; the replication frames that follow it take 16 and up. */
export const LinkMessageType = {
  /** acceptor → dialer: the challenge. */
  hello: 1,
  /** dialer → acceptor: the dialer's answer and its own challenge. */
  dialerProof: 2,
  /** acceptor → dialer: the acceptor's answer, sent only once the dialer's proof is verified. */
  acceptorProof: 3,
} as const;

export const NONCE_BYTES = 32;
/** HMAC-SHA-256. */
export const MAC_BYTES = 32;
/** Bounds on the free-form fields, so a stranger's frame cannot make us hold much (issue #12: bound what comes from outside). */
export const MAX_URL_CHARS = 2048;
export const MAX_STORAGE_ID_CHARS = 128;
/** No valid handshake frame is longer; anything longer is refused before it is parsed. */
export const MAX_HANDSHAKE_FRAME_BYTES = 4096;

export interface Hello {
  v: number;
  nonce: Uint8Array;
}

/** What each side says about itself; undefined fields are absent (encoded as a 0 flag). */
export interface RegionFacts {
  region: string;
  publicUrl: string | undefined;
  storageId: string | undefined;
}

export interface DialerProof extends RegionFacts {
  v: number;
  nonce: Uint8Array;
  mac: Uint8Array;
}

export interface AcceptorProof extends RegionFacts {
  v: number;
  mac: Uint8Array;
}

export function encodeHello(hello: Hello): Uint8Array {
  const encoder = header(LinkMessageType.hello, hello.v);
  encoding.writeVarUint8Array(encoder, hello.nonce);
  return encoding.toUint8Array(encoder);
}

export function encodeDialerProof(proof: DialerProof): Uint8Array {
  const encoder = header(LinkMessageType.dialerProof, proof.v);
  writeFacts(encoder, proof);
  encoding.writeVarUint8Array(encoder, proof.nonce);
  encoding.writeVarUint8Array(encoder, proof.mac);
  return encoding.toUint8Array(encoder);
}

export function encodeAcceptorProof(proof: AcceptorProof): Uint8Array {
  const encoder = header(LinkMessageType.acceptorProof, proof.v);
  writeFacts(encoder, proof);
  encoding.writeVarUint8Array(encoder, proof.mac);
  return encoding.toUint8Array(encoder);
}

/**
 * The type and version of a handshake frame, read before anything else: the version decides
 * whether the rest can be read at all. Throws MalformedFrameError for an empty, truncated or
 * oversized frame.
 */
export function readLinkHeader(frame: Uint8Array): { type: number; v: number } {
  if (frame.length > MAX_HANDSHAKE_FRAME_BYTES) throw new MalformedFrameError(`handshake frame of ${frame.length} bytes is over ${MAX_HANDSHAKE_FRAME_BYTES}`);
  const decoder = decoding.createDecoder(frame);
  try {
    return { type: decoding.readVarUint(decoder), v: decoding.readVarUint(decoder) };
  } catch (cause) {
    throw new MalformedFrameError('empty or truncated link frame: no type and version', { cause });
  }
}

/** A hello frame, or null for a frame of another type. */
export function decodeHello(frame: Uint8Array): Hello | null {
  return readBounded(frame, LinkMessageType.hello, 'hello', (decoder) => {
    const v = decoding.readVarUint(decoder);
    return { v, nonce: readFixed(decoder, NONCE_BYTES, 'nonce') };
  });
}

/** A dialer-proof frame, or null for a frame of another type. */
export function decodeDialerProof(frame: Uint8Array): DialerProof | null {
  return readBounded(frame, LinkMessageType.dialerProof, 'dialer proof', (decoder) => {
    const v = decoding.readVarUint(decoder);
    const facts = readFacts(decoder);
    const nonce = readFixed(decoder, NONCE_BYTES, 'nonce');
    return { v, ...facts, nonce, mac: readFixed(decoder, MAC_BYTES, 'MAC') };
  });
}

/** An acceptor-proof frame, or null for a frame of another type. */
export function decodeAcceptorProof(frame: Uint8Array): AcceptorProof | null {
  return readBounded(frame, LinkMessageType.acceptorProof, 'acceptor proof', (decoder) => {
    const v = decoding.readVarUint(decoder);
    const facts = readFacts(decoder);
    return { v, ...facts, mac: readFixed(decoder, MAC_BYTES, 'MAC') };
  });
}

/** Writes the facts one side states about itself; also the MAC inputs' encoding of them. */
export function writeFacts(encoder: encoding.Encoder, facts: RegionFacts): void {
  encoding.writeVarString(encoder, facts.region);
  writeOptionalString(encoder, facts.publicUrl);
  writeOptionalString(encoder, facts.storageId);
}

function header(type: number, v: number): encoding.Encoder {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  encoding.writeVarUint(encoder, v);
  return encoder;
}

function readBounded<T>(frame: Uint8Array, type: number, what: string, read: (decoder: decoding.Decoder) => T): T | null {
  if (frame.length > MAX_HANDSHAKE_FRAME_BYTES) throw new MalformedFrameError(`${what} frame of ${frame.length} bytes is over ${MAX_HANDSHAKE_FRAME_BYTES}`);
  return readFrame(frame, type, what, read);
}

function readFacts(decoder: decoding.Decoder): RegionFacts {
  const region = decoding.readVarString(decoder);
  if (!REGION_NAME.test(region)) throw new MalformedFrameError(`${JSON.stringify(region.slice(0, 40))} is not a region name`);
  const publicUrl = readOptionalString(decoder, MAX_URL_CHARS, 'public URL');
  if (publicUrl !== undefined && !isHttpUrl(publicUrl)) throw new MalformedFrameError('public URL is not an http(s) URL');
  return { region, publicUrl, storageId: readOptionalString(decoder, MAX_STORAGE_ID_CHARS, 'storage id') };
}

function readFixed(decoder: decoding.Decoder, bytes: number, what: string): Uint8Array {
  const value = decoding.readVarUint8Array(decoder);
  if (value.length !== bytes) throw new MalformedFrameError(`${what} of ${value.length} bytes, expected ${bytes}`);
  // A copy: the decoder's view shares the frame's buffer, which the transport may reuse.
  return value.slice();
}

function writeOptionalString(encoder: encoding.Encoder, value: string | undefined): void {
  encoding.writeVarUint(encoder, value === undefined ? 0 : 1);
  if (value !== undefined) encoding.writeVarString(encoder, value);
}

function readOptionalString(decoder: decoding.Decoder, maxChars: number, what: string): string | undefined {
  const flag = decoding.readVarUint(decoder);
  if (flag === 0) return undefined;
  if (flag !== 1) throw new MalformedFrameError(`${what}: presence flag ${flag}, expected 0 or 1`);
  const value = decoding.readVarString(decoder);
  if (value.length > maxChars) throw new MalformedFrameError(`${what} of ${value.length} characters is over ${maxChars}`);
  return value;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}
