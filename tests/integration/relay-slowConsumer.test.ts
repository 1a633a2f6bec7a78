/**
 * A client that stops reading is dropped with 4509 once more than the cap is queued for it,
 * while a client that reads keeps receiving everything.
 */
import net from 'node:net';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { openRawSocket } from '../support/rawSocket';
import { connectClient } from '../support/nodeClient';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Opens a WebSocket by hand, then never reads another byte (the kernel buffers fill up). */
async function stalledClient(server: RunningServer, path: string): Promise<net.Socket> {
  const socket = net.connect(server.port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}

function bigUpdate(bytes: number): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, crypto.randomBytes(bytes / 2).toString('hex'));
  return Y.encodeStateAsUpdate(doc);
}

describe('slow consumers', () => {
  it('closes a connection that does not read once more than the cap is queued for it, with 4509', async () => {
    const maxBufferedBytes = 2 * 1024 * 1024;
    const server = await startServer({ port: 0, host: '127.0.0.1', store: new MemoryStore(), next: false, logLevel: 'silent', relay: { maxBufferedBytes } });
    cleanups.push(() => server.close());
    const caps = mintDocument();
    const reader = connectClient(server.wsUrl, caps.docId, caps.view);
    cleanups.push(() => reader.destroy());
    await reader.synced;
    await stalledClient(server, `/ws/${caps.docId}?token=${caps.view}`);
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.connectionCount).toBe(2));
    const writer = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    cleanups.push(() => writer.ws.terminate());
    expect(await writer.waitFor((frame) => frame[0] === MessageType.sync)).toBe('matched');
    // Far more than the kernel's socket buffers hold on loopback, paced by the reader that reads
    // (so that only the stalled connection falls behind).
    const text = () => reader.doc.getText('t').length;
    for (let i = 0; i < 80 && server.metrics.refusedCount(CloseCode.slowConsumer) === 0; i++) {
      const before = text();
      writer.send(encodeUpdateMessage(bigUpdate(512 * 1024)));
      await vi.waitFor(() => expect(text()).toBeGreaterThan(before), { timeout: 10_000 });
    }
    expect(server.metrics.refusedCount(CloseCode.slowConsumer)).toBe(1);
    // The stalled connection is gone; the reader that reads got everything.
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.connectionCount).toBe(2));
    await vi.waitFor(() => expect(reader.doc.getText('t').length).toBe(server.relay.loadedRoom(caps.docId)!.doc.getText('t').length), { timeout: 20_000 });
    expect(writer.ws.readyState).toBe(writer.ws.OPEN);
  });
});
