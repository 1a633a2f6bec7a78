/**
 * A `ws` WebSocket as a LinkChannel (server/replication/handshake.ts), for either end of a
 * cluster link. Make it as soon as the socket exists (the dialer: right after `new WebSocket`):
 * it listens at once and holds frames until a listener attaches, because the acceptor's hello
 * can be delivered before code awaiting 'open' resumes.
 */
import type { RawData, WebSocket } from 'ws';
import type { LinkChannel } from './handshake';

export function wsLinkChannel(socket: WebSocket): LinkChannel {
  const listeners = new Set<(frame: Uint8Array) => void>();
  const held: Uint8Array[] = [];
  // A text frame is passed on as its bytes: the decoders refuse it like any other garbage (4490).
  socket.on('message', (data: RawData) => {
    const frame = toBytes(data);
    if (listeners.size === 0) held.push(frame);
    for (const listener of listeners) listener(frame);
  });
  return {
    send: (frame) => socket.send(frame),
    onFrame(listener) {
      listeners.add(listener);
      for (const frame of held.splice(0)) listener(frame);
      return () => listeners.delete(listener);
    },
    onClose(listener) {
      const onClose = (code: number, reason: Buffer) => listener(code, reason.toString());
      socket.on('close', onClose);
      return () => socket.off('close', onClose);
    },
    close: (code, reason) => socket.close(code, reason),
  };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
