/**
 * "Saved" means stored: the browser's SaveTracker (lib/client/SaveTracker.ts) counts an edit as
 * saved only when the relay confirms it is in storage. We hold the relay's writes by locking its
 * SQLite database from outside, so edits are received and relayed but not stored, then SIGKILL
 * the relay: those edits must still count as unsaved. As a positive control, the edits that were
 * confirmed are all there after a restart with every client gone.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { mintDocument } from '../../lib/auth/capabilities';
import { SaveTracker } from '../../lib/client/SaveTracker';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION } from '../../lib/protocol/ackExtension';
import { SQLITE_FILE_NAME } from '../../server/storage/SqliteStore';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { TempDirs } from '../support/tempDirs';

const processes: RelayProcess[] = [];
const clients: NodeClient[] = [];
const dataDirs = new TempDirs();
let lock: Database.Database | null = null;
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of processes.splice(0)) await p.stop('SIGKILL');
  lock?.close();
  lock = null;
  dataDirs.removeAll();
});

/** Resolves once the relay logs a failed write of `docId` after log line `since`: it tried to store, and could not. */
function saveFailedAfter(relay: RelayProcess, docId: string, since: number, timeout = 20_000): Promise<void> {
  return vi.waitFor(
    () => expect(relay.logs.slice(since).some((l) => l.docId === docId && String(l.msg).startsWith('save failed'))).toBe(true),
    { timeout },
  );
}

function client(relay: RelayProcess, docId: string, token: string, extension: boolean): NodeClient {
  const params: Record<string, string> = extension ? { [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION) } : {};
  const c = connectClient(relay.wsUrl, docId, token, new Y.Doc(), params);
  clients.push(c);
  return c;
}

describe('save tracking', () => {
  it('counts edits as saved only once stored: a SIGKILL between receive and store leaves them unsaved', { timeout: 60_000 }, async () => {
    const dataDir = dataDirs.make('concord-saves-');
    const caps = mintDocument();
    const first = await startRelayProcess(dataDir);
    processes.push(first);
    const writer = client(first, caps.docId, caps.edit, true);
    const reader = client(first, caps.docId, caps.edit, false);
    const tracker = new SaveTracker(writer.doc, writer.provider, { isRemoteOrigin: () => false });
    await Promise.all([writer.synced, reader.synced]);
    const text = writer.doc.getText('t');

    // 1. Stored: the count goes up with each edit and back to zero once the relay confirms.
    text.insert(0, 'kept ');
    text.insert(5, 'forever ');
    expect(tracker.unsaved).toBe(2);
    await vi.waitFor(() => expect(tracker.unsaved).toBe(0));
    const storedText = text.toString();

    // 2. Hold every write: lock the database from another connection.
    lock = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    lock.exec('BEGIN EXCLUSIVE');
    text.insert(text.length, 'lost');
    text.delete(0, 5); // a pure deletion: no state vector would show it
    expect(tracker.unsaved).toBe(2);
    // The relay received and applied them (the reader sees them). Its blocked write attempt
    // (SQLite's busy timeout, 5 s) can delay the second one.
    await vi.waitFor(() => expect(reader.doc.getText('t').toString()).toBe('forever lost'), { timeout: 20_000 });
    // …but could not store them: once a write after both has failed, still no confirmation.
    await saveFailedAfter(first, caps.docId, first.logs.length);
    expect(tracker.unsaved).toBe(2);

    // 3. Crash between receive and store. The edits still count as unsaved.
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(tracker.unsaved).toBe(2);
    for (const c of clients.splice(0)) c.destroy();
    tracker.destroy();
    lock.exec('ROLLBACK');
    lock.close();
    lock = null;

    // 4. With every client gone, a restarted relay has exactly what was confirmed.
    const second = await startRelayProcess(dataDir);
    processes.push(second);
    const fresh = client(second, caps.docId, caps.view, false);
    await fresh.synced;
    expect(fresh.doc.getText('t').toString()).toBe(storedText);
  });

  it('a client that kept its unsaved edits gets them stored and confirmed after the relay restarts', { timeout: 60_000 }, async () => {
    const dataDir = dataDirs.make('concord-saves-');
    const caps = mintDocument();
    const first = await startRelayProcess(dataDir);
    processes.push(first);
    const writer = client(first, caps.docId, caps.edit, true);
    const tracker = new SaveTracker(writer.doc, writer.provider, { isRemoteOrigin: () => false });
    await writer.synced;
    lock = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    lock.exec('BEGIN EXCLUSIVE');
    const logged = first.logs.length;
    writer.doc.getText('t').insert(0, 'typed during the outage');
    await saveFailedAfter(first, caps.docId, logged); // the relay has the edit and could not store it
    await first.stop('SIGKILL');
    lock.exec('ROLLBACK');
    lock.close();
    lock = null;
    expect(tracker.unsaved).toBe(1);

    // Same port is not needed here: point the provider at the new relay and reconnect.
    const second = await startRelayProcess(dataDir);
    processes.push(second);
    writer.provider.disconnect();
    (writer.provider as unknown as { serverUrl: string }).serverUrl = second.wsUrl;
    writer.provider.connect();
    await vi.waitFor(() => expect(tracker.unsaved).toBe(0), { timeout: 15_000 });
    tracker.destroy();
    for (const c of clients.splice(0)) c.destroy();
    await second.stop('SIGKILL');

    const third = await startRelayProcess(dataDir);
    processes.push(third);
    const fresh = client(third, caps.docId, caps.view, false);
    await fresh.synced;
    expect(fresh.doc.getText('t').toString()).toBe('typed during the outage');
  });
});
