/**
 * Faults say the right thing (issue #11): our own bug closes with the transient 1011 and the
 * editor retries; a silent client is closed with 4508; a failed load with 4503 and a retry
 * succeeds; a document deleted under a loaded room closes its connections with 4410.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../server/startServer';
import type { RelayOptions } from '../../server/relay/Relay';
import { mintDocument, type DocumentCapabilities } from '../../lib/auth/capabilities';
import { CloseCode, isPermanentRefusal } from '../../lib/protocol/closeCodes';
import { applyConnectionEvent, INITIAL_FACTS, shouldConnect } from '../../lib/client/connectionStatus';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import { GatedStore } from '../support/gatedStore';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Error-level log lines, parsed. */
function errorLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

async function serve(store: GatedStore, relay: Partial<RelayOptions> = {}, logger = pino({ level: 'silent' })): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logger, relay });
  cleanups.push(() => server.close());
  return server;
}

/** A stock y-websocket client that records the close codes it sees. */
function editor(server: RunningServer, caps: DocumentCapabilities): NodeClient & { closes: number[] } {
  const client = connectClient(server.wsUrl, caps.docId, caps.edit);
  cleanups.push(() => client.destroy());
  const closes: number[] = [];
  client.provider.on('connection-close', (event: CloseEvent | null) => {
    if (event) closes.push(event.code);
  });
  return Object.assign(client, { closes });
}

describe('relay faults', () => {
  it('closes with the transient 1011 on an internal error, logs it with the document, and the editor retries', async () => {
    const { logger, lines } = errorLog();
    const server = await serve(new GatedStore(), {}, logger);
    const caps = mintDocument();
    const client = editor(server, caps);
    await client.synced;
    const room = server.relay.loadedRoom(caps.docId)!;
    vi.spyOn(room, 'receive').mockImplementationOnce(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'simulated')");
    });
    client.doc.getText('t').insert(0, 'hello');
    await vi.waitFor(() => expect(client.closes).toEqual([CloseCode.internalError]));
    expect(lines.some((l) => l.docId === caps.docId && String(l.msg).startsWith('internal error'))).toBe(true);
    // Transient for our editor's status and for the stock provider, which reconnects and re-sends the edit.
    expect(isPermanentRefusal(CloseCode.internalError)).toBe(false);
    expect(shouldConnect(applyConnectionEvent(INITIAL_FACTS, { type: 'closed', code: CloseCode.internalError, reason: '' }))).toBe(true);
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.doc.getText('t').toString()).toBe('hello'));
  });

  it('closes a connection that never answers pings with 4508, and keeps one that does', async () => {
    const server = await serve(new GatedStore(), { heartbeatMs: 40 });
    const caps = mintDocument();
    const url = `${server.wsUrl}/${caps.docId}?token=${caps.edit}`;
    const silent = new WebSocket(url, { autoPong: false });
    const answering = new WebSocket(url);
    cleanups.push(() => silent.terminate(), () => answering.terminate());
    const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    let pingsAnswered = 0;
    answering.on('ping', () => pingsAnswered++);
    expect(await silentClosed).toBe(CloseCode.heartbeatTimeout);
    // The silent one missed one ping; the answering one lives through several.
    await vi.waitFor(() => expect(pingsAnswered).toBeGreaterThanOrEqual(4));
    expect(answering.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 4503 when the document cannot be loaded, and the editor gets in once it can', async () => {
    const store = new GatedStore();
    store.loads.failure = new Error('disk unavailable (simulated)');
    const server = await serve(store);
    const caps = mintDocument();
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}`);
    cleanups.push(() => raw.ws.terminate());
    expect((await raw.closed).code).toBe(CloseCode.documentUnavailable);
    expect(raw.received).toHaveLength(0);
    const client = editor(server, caps);
    await vi.waitFor(() => expect(client.closes).toContain(CloseCode.documentUnavailable));
    store.loads.failure = null;
    await client.synced; // the stock provider retried on its own
    expect(store.loads.failed).toBeGreaterThanOrEqual(2);
  });

  it('closes every connection with 4410 and unloads the room when storage says the document was deleted', async () => {
    const store = new GatedStore();
    const server = await serve(store);
    const caps = mintDocument();
    const client = editor(server, caps);
    await client.synced;
    const viewer = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.view}`);
    cleanups.push(() => viewer.ws.terminate());
    await viewer.opened;
    await vi.waitFor(() => expect(server.relay.loadedRoom(caps.docId)?.connectionCount).toBe(2));
    // Deleted elsewhere (another server on the same storage): this relay learns it from its next write.
    await store.deleteDocument(caps.docId);
    client.doc.getText('t').insert(0, 'typed into a tombstone');
    let viewerCode: number | null = null;
    void viewer.closed.then(({ code }) => (viewerCode = code));
    await vi.waitFor(() => expect(viewerCode).toBe(CloseCode.documentDeleted), { timeout: 5_000 });
    await vi.waitFor(() => expect(client.closes).toEqual([CloseCode.documentDeleted]));
    expect(server.relay.loadedRoom(caps.docId)).toBeUndefined();
    expect(store.appends.started).toBe(1);
    expect((await store.load(caps.docId)).updates).toHaveLength(0);
  });
});
