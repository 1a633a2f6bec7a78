/**
 * Strict frame reading for the decoders in lib/protocol: a frame holds exactly one message.
 *
 * lib0 reads a prefix and ignores whatever follows, so without the whole-frame check a client's
 * mark (101 · id) read as the relay's mark answer, or the other way round, would give a
 * plausible wrong value instead of an error. Pure: no sockets, no Node APIs.
 */
import * as decoding from 'lib0/decoding';

/** A frame that is not one well-formed message of the type it claims. */
export class MalformedFrameError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedFrameError';
  }
}

/** The message type of a frame (its first varUint). */
export function frameType(frame: Uint8Array): number {
  try {
    return decoding.readVarUint(decoding.createDecoder(frame));
  } catch (cause) {
    throw new MalformedFrameError('empty or truncated frame: no message type', { cause });
  }
}

/**
 * Reads a frame of message type `type` with `read`, given a decoder just past the type: null when
 * the frame is of another type; MalformedFrameError when it is truncated, has bytes left over,
 * or `read` rejects it. `what` names the message in errors.
 */
export function readFrame<T>(frame: Uint8Array, type: number, what: string, read: (decoder: decoding.Decoder) => T): T | null {
  const decoder = decoding.createDecoder(frame);
  let actual: number;
  try {
    actual = decoding.readVarUint(decoder);
  } catch (cause) {
    throw new MalformedFrameError('empty or truncated frame: no message type', { cause });
  }
  if (actual !== type) return null;
  let value: T;
  try {
    value = read(decoder);
  } catch (cause) {
    if (cause instanceof MalformedFrameError) throw cause;
    throw new MalformedFrameError(`truncated or invalid ${what} frame`, { cause });
  }
  const left = decoder.arr.length - decoder.pos;
  if (left > 0) throw new MalformedFrameError(`${what} frame has ${left} unexpected trailing byte${left === 1 ? '' : 's'}`);
  return value;
}
