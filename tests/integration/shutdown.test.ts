/**
 * Shutdown never hangs (issue #11), in the real relay process: with its SQLite database locked
 * by another connection (as a backup tool or a stuck process would hold it), edits are received
 * but cannot be stored, and SIGTERM must still end the process — non-zero, once the grace period
 * is over, naming the document it could not store. With storage working it exits 0.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintDocument } from '../../lib/auth/capabilities';
import { SQLITE_FILE_NAME } from '../../server/storage/SqliteStore';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { TempDirs } from '../support/tempDirs';

const GRACE_MS = 1_000;
/** SqliteStore's busy_timeout: the longest a write blocked by the lock can hold the (synchronous) event loop. */
const SQLITE_BUSY_MS = 5_000;

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

async function relayWithOneEdit(lockStorage: boolean) {
  const dataDir = dataDirs.make('concord-shutdown-');
  const relay = await startRelayProcess(dataDir, { SHUTDOWN_GRACE_MS: String(GRACE_MS) });
  processes.push(relay);
  const caps = mintDocument();
  const writer = connectClient(relay.wsUrl, caps.docId, caps.edit);
  clients.push(writer);
  await writer.synced;
  if (lockStorage) {
    lock = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    lock.exec('BEGIN EXCLUSIVE');
  }
  writer.doc.getText('t').insert(0, 'typed before shutdown');
  return { relay, docId: caps.docId };
}

const saveFailed = (relay: RelayProcess, docId: string) =>
  relay.logs.some((l) => l.docId === docId && String(l.msg).startsWith('save failed'));

describe('shutdown', () => {
  it('exits non-zero after the grace period when storage fails, naming the unstored document', { timeout: 60_000 }, async () => {
    const { relay, docId } = await relayWithOneEdit(true);
    // The relay received the edit and its write failed: it is now retrying.
    await vi.waitFor(() => expect(saveFailed(relay, docId)).toBe(true), { timeout: 20_000 });
    const signalled = performance.now();
    const exit = await relay.stop('SIGTERM');
    const tookMs = performance.now() - signalled;
    expect(exit).toEqual({ code: 1, signal: null });
    // The grace period, plus at most one blocked write on each side of it.
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(tookMs).toBeLessThan(GRACE_MS + 2 * SQLITE_BUSY_MS + 3_000);
    const report = relay.logs.find((l) => Array.isArray(l.docIds));
    expect(report).toMatchObject({ level: 50, docIds: [docId], graceMs: GRACE_MS });
  });

  it('exits 0 when everything is stored (the control)', { timeout: 60_000 }, async () => {
    const { relay, docId } = await relayWithOneEdit(false);
    const exit = await relay.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(saveFailed(relay, docId)).toBe(false);
    expect(relay.logs.some((l) => l.msg === 'shutdown complete')).toBe(true);
  });
});
