/**
 * The messages instances of one region exchange over Redis pub/sub: a pure codec.
 *
 * Document messages go on the document's own channel and carry the sender's (epoch, seq): seq
 * counts the sender's messages for that document since it loaded it (epoch, random per load),
 * so a receiver sees when one went missing (pub/sub drops messages when a subscriber's
 * connection drops or Redis restarts) and reads what it lacks from storage. Epoch 0 marks a
 * message sent outside a loaded document (an access change made through the API), which has no
 * sequence. Instance messages (alive, leaving) go on one channel for the region.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** Bumped when a frame changes shape; an instance drops (and logs) frames of another version. */
export const BUS_PROTOCOL_VERSION = 2;

export type DocumentFrame =
  /**
   * A completed change of the sender's document. `fromPeerRegion`: the sender had it from a peer
   * region over its region link (so no instance sends it over a link again).
   */
  | { type: 'update'; update: Uint8Array; fromPeerRegion: boolean }
  /** Presence (an awareness update) of clients connected to the sender, or to a peer region. */
  | { type: 'presence'; update: Uint8Array; fromPeerRegion: boolean }
  /** "Send me your presence": a receiver that just loaded the document, or found a gap. */
  | { type: 'presenceQuery' }
  /** The document's links were rotated or it was deleted: read its access from storage. */
  | { type: 'access' };

export interface DocumentMessage {
  sender: string;
  /** Random per load of the document by the sender; 0 when the message has no sequence. */
  epoch: number;
  /** 1, 2, 3… within an epoch. */
  seq: number;
  /** When the sender published it (ms since epoch), for the bus lag figure. */
  sentAt: number;
  frame: DocumentFrame;
}

export type InstanceMessage = { type: 'alive'; sender: string } | { type: 'leaving'; sender: string };

export class MalformedBusFrameError extends Error {
  override readonly name = 'MalformedBusFrameError';
}

const DOCUMENT_TYPES = ['update', 'presence', 'presenceQuery', 'access'] as const;
const INSTANCE_TYPES = ['alive', 'leaving'] as const;

export function encodeDocumentMessage(message: DocumentMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, BUS_PROTOCOL_VERSION);
  encoding.writeVarUint(encoder, DOCUMENT_TYPES.indexOf(message.frame.type));
  encoding.writeVarString(encoder, message.sender);
  encoding.writeVarUint(encoder, message.epoch);
  encoding.writeVarUint(encoder, message.seq);
  encoding.writeVarUint(encoder, message.sentAt);
  if (message.frame.type === 'update' || message.frame.type === 'presence') {
    encoding.writeVarUint8Array(encoder, message.frame.update);
    encoding.writeUint8(encoder, message.frame.fromPeerRegion ? 1 : 0);
  }
  return encoding.toUint8Array(encoder);
}

export function decodeDocumentMessage(bytes: Uint8Array): DocumentMessage {
  return decodeWhole(bytes, (decoder) => {
    const type = DOCUMENT_TYPES[decoding.readVarUint(decoder)];
    if (type === undefined) throw new MalformedBusFrameError('unknown document message type');
    const sender = decoding.readVarString(decoder);
    const epoch = decoding.readVarUint(decoder);
    const seq = decoding.readVarUint(decoder);
    const sentAt = decoding.readVarUint(decoder);
    // Copied: the frame may be a view into a pooled socket buffer, and updates can wait in a room.
    let frame: DocumentFrame;
    if (type === 'update' || type === 'presence') {
      const update = decoding.readVarUint8Array(decoder).slice();
      const flag = decoding.readUint8(decoder);
      if (flag > 1) throw new MalformedBusFrameError(`fromPeerRegion must be 0 or 1, not ${flag}`);
      frame = { type, update, fromPeerRegion: flag === 1 };
    } else frame = { type };
    return { sender, epoch, seq, sentAt, frame };
  });
}

export function encodeInstanceMessage(message: InstanceMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, BUS_PROTOCOL_VERSION);
  encoding.writeVarUint(encoder, INSTANCE_TYPES.indexOf(message.type));
  encoding.writeVarString(encoder, message.sender);
  return encoding.toUint8Array(encoder);
}

export function decodeInstanceMessage(bytes: Uint8Array): InstanceMessage {
  return decodeWhole(bytes, (decoder) => {
    const type = INSTANCE_TYPES[decoding.readVarUint(decoder)];
    if (type === undefined) throw new MalformedBusFrameError('unknown instance message type');
    return { type, sender: decoding.readVarString(decoder) };
  });
}

/** Reads a whole frame: a truncated frame, bytes left over or another version throw. */
function decodeWhole<T>(bytes: Uint8Array, read: (decoder: decoding.Decoder) => T): T {
  const decoder = decoding.createDecoder(bytes);
  let value: T;
  try {
    const version = decoding.readVarUint(decoder);
    if (version !== BUS_PROTOCOL_VERSION) throw new MalformedBusFrameError(`bus protocol version ${version}, expected ${BUS_PROTOCOL_VERSION}`);
    value = read(decoder);
  } catch (err) {
    if (err instanceof MalformedBusFrameError) throw err;
    throw new MalformedBusFrameError('truncated bus frame', { cause: err });
  }
  if (decoding.hasContent(decoder)) throw new MalformedBusFrameError('bytes left over after a bus frame');
  return value;
}
