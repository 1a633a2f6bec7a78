/**
 * Several instances starting together on a new data directory (issue #13): one may open the
 * SQLite file while another still holds a lock on it, before the file is in WAL mode. SQLite then
 * answers the switch to WAL with SQLITE_BUSY at once, without its busy timeout; opening must wait
 * for the lock instead of failing (it stopped an instance at start).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SQLITE_FILE_NAME, SqliteStore } from '../../server/storage/SqliteStore';
import { TempDirs } from '../support/tempDirs';

const dirs = new TempDirs();
afterEach(() => dirs.removeAll());

/** Another process that creates the file, takes its write lock and lets go 300 ms later by itself. */
const HOLDER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('CREATE TABLE IF NOT EXISTS held (x)');
db.exec('BEGIN IMMEDIATE');
db.exec('INSERT INTO held VALUES (1)');
process.stdout.write('holding\\n');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
db.exec('COMMIT');
db.close();
`;

describe('SqliteStore opening a file another process holds', () => {
  it('waits for the lock to switch a new file to WAL instead of failing with SQLITE_BUSY', async () => {
    const dataDir = dirs.make('concord-sqlite-open-');
    const file = path.join(dataDir, SQLITE_FILE_NAME);
    const holder = spawn(process.execPath, ['-e', HOLDER, require.resolve('better-sqlite3'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
    });
    // Opened while the other process holds the lock (it lets go by itself while we wait).
    const store = new SqliteStore(dataDir);
    await exited;
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    check.close();
  });
});
