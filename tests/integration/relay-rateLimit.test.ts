/**
 * The per-connection message limit through a real server: the limit itself passes, the next
 * message closes the connection with 4529 before it is handled, and the refusal is counted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { openRawSocket } from '../support/rawSocket';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(maxMessagesPerSecond: number): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store: new MemoryStore(), next: false, logLevel: 'silent', relay: { maxMessagesPerSecond } });
  cleanups.push(() => server.close());
  return server;
}

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

describe('message rate limit', () => {
  it('handles the allowed messages, refuses the next one unhandled with 4529 and counts it', async () => {
    const server = await serve(20);
    const caps = mintDocument();
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    cleanups.push(() => raw.ws.terminate());
    // Wait for the handshake so that every frame goes straight to the room (none queued).
    expect(await raw.waitFor((frame) => frame[0] === MessageType.sync)).toBe('matched');
    for (let i = 0; i < 20; i++) raw.send(encodeUpdateMessage(textUpdate(`<${i}>`)));
    raw.send(encodeUpdateMessage(textUpdate('<over the limit>')));
    expect((await raw.closed).code).toBe(CloseCode.rateLimited);
    const text = server.relay.loadedRoom(caps.docId)!.doc.getText('t').toString();
    for (let i = 0; i < 20; i++) expect(text).toContain(`<${i}>`);
    expect(text).not.toContain('over the limit');
    expect(server.metrics.refusedCount(CloseCode.rateLimited)).toBe(1);
    await vi.waitFor(() => expect(server.relay.stats().connections).toBe(0));
  });

  it('leaves a connection that stays within the limit open', async () => {
    const server = await serve(20);
    const caps = mintDocument();
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    cleanups.push(() => raw.ws.terminate());
    expect(await raw.waitFor((frame) => frame[0] === MessageType.sync)).toBe('matched');
    for (let i = 0; i < 19; i++) raw.send(encodeUpdateMessage(textUpdate(`<${i}>`)));
    // The 20th asks for presence: its answer proves every earlier frame was handled.
    raw.send(new Uint8Array([MessageType.queryAwareness]));
    expect(await raw.waitFor((frame) => frame[0] === MessageType.awareness)).toBe('matched');
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    expect(server.metrics.refusedCount(CloseCode.rateLimited)).toBe(0);
  });
});
