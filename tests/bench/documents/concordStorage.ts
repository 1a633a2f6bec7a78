/** What Concord stored for a document, read from its data directory after the server stopped. */
import fs from 'node:fs';
import path from 'node:path';
import { SQLITE_FILE_NAME, SqliteStore } from '../../../server/storage/SqliteStore';

export interface StoredSize {
  /** SQLite files incl. WAL and pages freed by compaction (SQLite reuses them but keeps them). */
  fileBytes: number;
  /** The document's own rows (snapshot + log after it), through the store's public interface. */
  documentBytes: number;
  entries: number;
}

/** Bytes of the SQLite files (database, WAL, shared memory) in a data directory. */
export function sqliteFileBytes(dataDir: string): number {
  return fs
    .readdirSync(dataDir)
    .filter((f) => f.startsWith(SQLITE_FILE_NAME))
    .reduce((sum, f) => sum + fs.statSync(path.join(dataDir, f)).size, 0);
}

export async function storedSize(dataDir: string, docId: string): Promise<StoredSize> {
  const fileBytes = sqliteFileBytes(dataDir);
  const store = new SqliteStore(dataDir);
  try {
    const { bytes, updates } = await store.load(docId);
    return { fileBytes, documentBytes: bytes, entries: updates.length };
  } finally {
    await store.close();
  }
}
