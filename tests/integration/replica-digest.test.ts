/**
 * A split that state vectors cannot show — here a deletion the relay never received — is found
 * by the digest check of protocol extension v2 and repaired by exchanging full state, through
 * the real relay and the stock provider with the editor's ReplicaCheck.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';
import { CONCORD_PROTOCOL_PARAM, encodeDigestCheck } from '../../lib/protocol/ackExtension';
import { documentDigest } from '../../lib/protocol/documentDigest';
import { ReplicaCheck } from '../../lib/client/ReplicaCheck';
import { connectClient } from '../support/nodeClient';
import { openRawSocket } from '../support/rawSocket';
import { CloseCode } from '../../lib/protocol/closeCodes';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store: new MemoryStore(), next: false, logLevel: 'silent' });
  cleanups.push(() => server.close());
  return server;
}

describe('replica digests', () => {
  it('finds a deletion the relay never received, with equal state vectors, and repairs it', async () => {
    const server = await start();
    const caps = mintDocument();
    const client = connectClient(server.wsUrl, caps.docId, caps.edit, new Y.Doc(), { [CONCORD_PROTOCOL_PARAM]: '2' });
    cleanups.push(() => client.destroy());
    await client.synced;
    const check = new ReplicaCheck(client.doc, client.provider);
    cleanups.push(() => check.destroy());
    const title = client.doc.getText('title');
    title.insert(0, 'draft title');
    const roomTitle = () => server.relay.loadedRoom(caps.docId)?.doc.getText('title').toString();
    await vi.waitFor(() => expect(roomTitle()).toBe('draft title'));

    // A deletion made with the provider as origin is never sent: the replicas now differ while
    // their state vectors (which do not count deletions) stay equal.
    client.doc.transact(() => title.delete(0, 6), client.provider);
    const room = server.relay.loadedRoom(caps.docId)!;
    expect(Y.encodeStateVector(room.doc)).toEqual(Y.encodeStateVector(client.doc));
    expect(roomTitle()).toBe('draft title');

    check.send();
    await vi.waitFor(() => expect(check.checksAnswered).toBe(1));
    expect(check.splitsDetected).toBe(1);
    expect(server.metrics.integrityCounts.splitsDetected).toBe(1);
    await vi.waitFor(() => expect(roomTitle()).toBe('title'));
    expect(title.toString()).toBe('title');

    // Repaired: the next check finds the replicas equal.
    check.send();
    await vi.waitFor(() => expect(check.checksAnswered).toBe(2));
    expect(check.splitsDetected).toBe(1);
    expect(server.metrics.integrityCounts.splitsDetected).toBe(1);
    expect(documentDigest(room.doc)).toEqual(documentDigest(client.doc));
  });

  it('only clients that negotiated version 2 may send a digest check', async () => {
    const server = await start();
    const caps = mintDocument();
    const raw = openRawSocket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}&${CONCORD_PROTOCOL_PARAM}=1`);
    await raw.opened;
    raw.send(encodeDigestCheck(Y.encodeStateVector(new Y.Doc()), documentDigest(new Y.Doc())));
    expect((await raw.closed).code).toBe(CloseCode.malformedMessage);
  });
});
