/**
 * WebSocket framing for what the relay sends (RFC 6455 §5.2): a final, unmasked binary frame.
 * The relay frames a broadcast once and writes the same bytes to every receiver's socket instead
 * of letting `ws` frame it again per receiver (see SendBatcher). Only valid when no extension
 * (permessage-deflate) was negotiated: the Relay turns compression off.
 */

const FIN_BINARY = 0x82;

/** Length of the frame header for a payload of `length` bytes. */
export function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Writes the header of a server-to-client binary frame carrying `length` bytes into `target`. */
export function writeFrameHeader(target: Buffer, length: number): void {
  target[0] = FIN_BINARY;
  if (length < 126) {
    target[1] = length;
  } else if (length < 65536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    // 64-bit length; payloads here are far below 2^53.
    target.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    target.writeUInt32BE(length >>> 0, 6);
  }
}

/** The header alone, for payloads too large to copy into one buffer. */
export function frameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(frameHeaderLength(length));
  writeFrameHeader(header, length);
  return header;
}

/** Header and payload in one buffer: one write to the socket. */
export function frame(payload: Uint8Array): Buffer {
  const headerLength = frameHeaderLength(payload.byteLength);
  const out = Buffer.allocUnsafe(headerLength + payload.byteLength);
  writeFrameHeader(out, payload.byteLength);
  out.set(payload, headerLength);
  return out;
}
