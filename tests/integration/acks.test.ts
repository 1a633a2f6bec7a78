/**
 * The "stored" acknowledgement extension: negotiated with `?concord=1`, sent only to clients that
 * asked, and only for data that is really in storage (acked edits survive a SIGKILL).
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { mintDocument } from '../../lib/auth/capabilities';
import { ACK_MESSAGE_TYPE, CONCORD_PROTOCOL_VERSION, decodeStoredAck } from '../../lib/protocol/ackExtension';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { MessageType } from '../../lib/protocol/messageTypes';
import { connectClient } from '../support/nodeClient';
import { openRawSocket, type RawSocket } from '../support/rawSocket';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { TempDirs } from '../support/tempDirs';

const processes: RelayProcess[] = [];
const sockets: RawSocket[] = [];
const dataDirs = new TempDirs();
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
  dataDirs.removeAll();
});

async function relay(dataDir: string): Promise<RelayProcess> {
  const p = await startRelayProcess(dataDir);
  processes.push(p);
  return p;
}

function socket(url: string): RawSocket {
  const s = openRawSocket(url);
  sockets.push(s);
  return s;
}

/** Resolves with the stored state vector once an ack covers `clock` of `client`. */
function ackCovering(s: RawSocket, client: number, clock: number): Promise<'matched' | 'closed'> {
  return s.waitFor((f) => {
    const sv = f[0] === ACK_MESSAGE_TYPE ? decodeStoredAck(f) : null;
    return sv !== null && (Y.decodeStateVector(sv).get(client) ?? 0) >= clock;
  });
}

describe('stored acknowledgements', () => {
  it('acks negotiated clients after storing, never stock clients, and acked edits survive SIGKILL', async () => {
    const dataDir = dataDirs.make('concord-acks-');
    const caps = mintDocument();
    const first = await relay(dataDir);
    const extended = socket(`${first.wsUrl}/${caps.docId}?token=${caps.edit}&concord=1`);
    const stock = socket(`${first.wsUrl}/${caps.docId}?token=${caps.edit}`);
    await Promise.all([extended.opened, stock.opened]);

    const source = new Y.Doc();
    const acked = ackCovering(extended, source.clientID, 30);
    for (let i = 0; i < 30; i++) {
      source.getText('t').insert(i, 'x');
      extended.send(encodeUpdateMessage(Y.encodeStateAsUpdate(source, Y.encodeStateVector(new Y.Doc()))));
    }
    expect(await acked).toBe('matched');
    const probe = stock.waitFor((f) => f[0] === MessageType.awareness);
    stock.send(new Uint8Array([MessageType.queryAwareness]));
    expect(await probe).toBe('matched');
    expect(stock.received.some((f) => f[0] === ACK_MESSAGE_TYPE)).toBe(false);

    for (const s of sockets.splice(0)) s.ws.terminate();
    await first.stop('SIGKILL');
    const second = await relay(dataDir);
    const fresh = connectClient(second.wsUrl, caps.docId, caps.view);
    await fresh.synced;
    expect(fresh.doc.getText('t').toString()).toBe('x'.repeat(30));
    fresh.destroy();

    // A reconnecting client is told at once what is stored.
    const again = socket(`${second.wsUrl}/${caps.docId}?token=${caps.view}&concord=1`);
    expect(await ackCovering(again, source.clientID, 30)).toBe('matched');
  });

  it('refuses protocol versions it does not speak with 4426', async () => {
    const dataDir = dataDirs.make('concord-acks-');
    const caps = mintDocument();
    const server = await relay(dataDir);
    for (const version of [String(CONCORD_PROTOCOL_VERSION + 1), 'abc', '0']) {
      const s = socket(`${server.wsUrl}/${caps.docId}?token=${caps.edit}&concord=${version}`);
      expect((await s.closed).code).toBe(CloseCode.unsupportedProtocol);
    }
  });
});
