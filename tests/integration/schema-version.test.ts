/**
 * A real relay closes an editor whose declared schema (`?schema=`) is older than the document's
 * with 4427, both when a change records a newer schema (before that change reaches it) and when
 * it joins a document that already records one; stock clients declare none and stay (issue #15).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { MessageType } from '../../lib/protocol/messageTypes';
import { SCHEMA_PARAM } from '../../lib/protocol/ackExtension';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { recordedSchemaVersion, recordSchemaVersion } from '../../lib/documents/schemaVersion';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { openRawSocket, type RawSocket } from '../support/rawSocket';
import { TempDirs } from '../support/tempDirs';

let server: RunningServer;
const clients: NodeClient[] = [];
const sockets: RawSocket[] = [];
const dataDirs = new TempDirs();

beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', dataDir: dataDirs.make('concord-schema-'), next: false, logLevel: 'silent' });
});
afterAll(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
  dataDirs.removeAll();
});

function client(docId: string, token: string, params: Record<string, string> = {}): NodeClient {
  const c = connectClient(server.wsUrl, docId, token, new Y.Doc(), params);
  clients.push(c);
  return c;
}

function socket(docId: string, token: string, schema?: string): RawSocket {
  const query = schema === undefined ? '' : `&${SCHEMA_PARAM}=${schema}`;
  const s = openRawSocket(`${server.wsUrl}/${docId}?token=${token}${query}`);
  sockets.push(s);
  return s;
}

function isSyncUpdate(frame: Uint8Array): boolean {
  const d = decoding.createDecoder(frame);
  if (decoding.readVarUint(d) !== MessageType.sync) return false;
  const step = decoding.readVarUint(d);
  return step === syncProtocol.messageYjsUpdate || step === syncProtocol.messageYjsSyncStep2;
}

function hasTable(doc: Y.Doc): boolean {
  return doc.getXmlFragment(BODY_FRAGMENT).toArray().some((el) => el instanceof Y.XmlElement && el.nodeName === 'table');
}

/** What a newer editor does once synced: records its schema, then uses an element older ones lack. */
function editAsNewer(doc: Y.Doc, version: number): void {
  recordSchemaVersion(doc, version, null);
  const table = new Y.XmlElement('table');
  table.insert(0, [new Y.XmlText('cells')]);
  doc.getXmlFragment(BODY_FRAGMENT).insert(0, [table]);
}

describe('schema versions at the relay', () => {
  it('closes an older editor with 4427 before a change recording a newer schema reaches it; stock clients keep it', async () => {
    const caps = mintDocument();
    const older = socket(caps.docId, caps.edit, '1');
    await older.opened;
    const stock = client(caps.docId, caps.edit);
    const newer = client(caps.docId, caps.edit, { [SCHEMA_PARAM]: '2' });
    await Promise.all([stock.synced, newer.synced]);

    editAsNewer(newer.doc, 2);

    expect(await older.closed).toEqual({ code: CloseCode.editorOutdated, reason: 'editor outdated: reload', httpStatus: undefined });
    expect(older.received.filter(isSyncUpdate)).toEqual([]);
    await expect.poll(() => hasTable(stock.doc)).toBe(true);
    expect(recordedSchemaVersion(stock.doc)).toBe(2);
    expect(stock.provider.wsconnected && newer.provider.wsconnected).toBe(true);
  });

  it('closes an older editor joining a document that records a newer schema, with nothing of it sent', async () => {
    const caps = mintDocument();
    const newer = client(caps.docId, caps.edit, { [SCHEMA_PARAM]: '2' });
    await newer.synced;
    editAsNewer(newer.doc, 2);
    const reader = client(caps.docId, caps.view);
    await expect.poll(() => hasTable(reader.doc)).toBe(true);

    const older = socket(caps.docId, caps.edit, '1');
    const garbled = socket(caps.docId, caps.edit, 'one');
    expect((await older.closed).code).toBe(CloseCode.editorOutdated);
    expect(older.received).toEqual([]);
    expect((await garbled.closed).code).toBe(CloseCode.editorOutdated);

    const current = socket(caps.docId, caps.edit, '2');
    const stock = socket(caps.docId, caps.edit);
    // The server's sync step 1 arrives once a connection has joined the room.
    await expect.poll(() => [current, stock].every((s) => s.received.some((f) => f[0] === MessageType.sync))).toBe(true);
    expect([current.ws.readyState, stock.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
  });
});
