/**
 * A `ws` WebSocket as a LinkChannel (server/replication/handshake.ts), for either end of a
 * cluster link. Make it as soon as the socket exists (the dialer: right after `new WebSocket`):
 * it listens at once and holds frames until a listener attaches, because the acceptor's hello
 * can be delivered before code awaiting 'open' resumes.
 *
 * Heartbeat: a ping every `heartbeatMs`; a link that has not been heard from (no frame, no pong)
 * for three of them is terminated, so a half-open connection (a peer gone without a TCP reset, a
 * black-holed route) does not stay "up" forever. A quiet link carries only these pings.
 */
import { WebSocket as WsSocket, type RawData, type WebSocket } from 'ws';
import type { LinkChannel } from './handshake';

export const LINK_HEARTBEAT_MS = 5000;
const MISSED_HEARTBEATS = 3;

export function wsLinkChannel(socket: WebSocket, heartbeatMs = LINK_HEARTBEAT_MS): LinkChannel {
  const listeners = new Set<(frame: Uint8Array) => void>();
  const heartbeatListeners = new Set<() => void>();
  const held: Uint8Array[] = [];
  let lastHeard = Date.now();
  // A text frame is passed on as its bytes: the decoders refuse it like any other garbage (4490).
  socket.on('message', (data: RawData) => {
    lastHeard = Date.now();
    const frame = toBytes(data);
    if (listeners.size === 0) held.push(frame);
    for (const listener of listeners) listener(frame);
  });
  socket.on('pong', () => {
    lastHeard = Date.now();
    for (const listener of heartbeatListeners) listener();
  });
  const heartbeat = setInterval(() => {
    if (socket.readyState !== WsSocket.OPEN) return;
    if (Date.now() - lastHeard > MISSED_HEARTBEATS * heartbeatMs) socket.terminate();
    else socket.ping();
  }, heartbeatMs);
  heartbeat.unref();
  socket.once('close', () => clearInterval(heartbeat));
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
    onHeartbeat(listener) {
      heartbeatListeners.add(listener);
      return () => heartbeatListeners.delete(listener);
    },
    close: (code, reason) => socket.close(code, reason),
  };
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
