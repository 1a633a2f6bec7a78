/**
 * How a load-generator client speaks to each server. Every server here carries y-websocket
 * messages (varUint type · payload: sync, awareness, …); they differ in what wraps them.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** A document as a server knows it: its name on the wire and the token a client presents. */
export interface BenchDocument {
  name: string;
  token: string | null;
}

export interface Framing {
  /** WebSocket URL for a client of `doc`. */
  url(doc: BenchDocument): string;
  /** Frames a client sends as soon as its socket opens, before any sync message. */
  preamble(doc: BenchDocument): Uint8Array[];
  /**
   * Whether the server takes part in the sync handshake. The raw relay does not: it holds no
   * document, so a client is ready as soon as its socket is open.
   */
  handshake: boolean;
  /** The frame that carries y-websocket `message` for `doc`. */
  wrap(doc: BenchDocument, message: Uint8Array): Uint8Array;
  /** The y-websocket message in an incoming frame, or null for a frame of the server's own protocol. */
  unwrap(frame: Uint8Array): Uint8Array | null;
}

/** Frames are y-websocket messages as they are: Concord, the reference server, the raw relay. */
export function yWebsocketFraming(url: (doc: BenchDocument) => string, handshake = true): Framing {
  return {
    url,
    preamble: () => [],
    handshake,
    wrap: (_doc, message) => message,
    unwrap: (frame) => frame,
  };
}

/** Hocuspocus message types beyond y-websocket's (its packages/server/src/types.ts). */
const HOCUSPOCUS_AUTH = 2;
const HOCUSPOCUS_AUTH_TOKEN = 0;
const HOCUSPOCUS_SYNC_REPLY = 4;

/**
 * Hocuspocus multiplexes documents on one socket: every frame starts with the document name
 * (varString). A document's messages are queued by the server until the client sends an auth
 * message for it, even on a server with no authentication hook. Its "sync reply" (type 4) is a
 * sync message that must not trigger another step 1; for our clients it is just sync.
 */
export function hocuspocusFraming(url: (doc: BenchDocument) => string): Framing {
  return {
    url,
    preamble(doc) {
      const encoder = encoding.createEncoder();
      encoding.writeVarString(encoder, doc.name);
      encoding.writeVarUint(encoder, HOCUSPOCUS_AUTH);
      encoding.writeVarUint(encoder, HOCUSPOCUS_AUTH_TOKEN);
      encoding.writeVarString(encoder, doc.token ?? '');
      return [encoding.toUint8Array(encoder)];
    },
    handshake: true,
    wrap(doc, message) {
      const encoder = encoding.createEncoder();
      encoding.writeVarString(encoder, doc.name);
      encoding.writeUint8Array(encoder, message);
      return encoding.toUint8Array(encoder);
    },
    unwrap(frame) {
      const decoder = decoding.createDecoder(frame);
      decoding.readVarString(decoder);
      const start = decoder.pos;
      const type = decoding.readVarUint(decoder);
      if (type === HOCUSPOCUS_SYNC_REPLY) {
        const message = new Uint8Array(1 + frame.byteLength - decoder.pos);
        message[0] = 0; // y-websocket's sync type
        message.set(frame.subarray(decoder.pos), 1);
        return message;
      }
      // Sync, awareness and query-awareness are y-websocket's own; auth replies and sync
      // statuses (an acknowledgement of every update a client sends) are Hocuspocus's.
      return type <= 1 || type === 3 ? frame.subarray(start) : null;
    },
  };
}
