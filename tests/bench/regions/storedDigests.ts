/**
 * What a region stored, read from its data directory after it stopped: each document's digest
 * (lib/protocol/documentDigest.ts: state vector, delete set and content), built from the stored
 * updates alone. Two regions agree on a document when their digests are equal.
 */
import * as Y from 'yjs';
import { documentDigest } from '../../../lib/protocol/documentDigest';
import { SqliteStore } from '../../../server/storage/SqliteStore';

/** Per document: its digest, or null when nothing is stored for it. */
export async function storedDigests(dataDir: string, docIds: readonly string[]): Promise<Map<string, Uint8Array | null>> {
  const store = new SqliteStore(dataDir);
  try {
    const digests = new Map<string, Uint8Array | null>();
    for (const docId of docIds) {
      const { updates } = await store.load(docId);
      if (updates.length === 0) {
        digests.set(docId, null);
        continue;
      }
      const doc = new Y.Doc();
      for (const update of updates) Y.applyUpdate(doc, update);
      digests.set(docId, documentDigest(doc));
      doc.destroy();
    }
    return digests;
  } finally {
    await store.close();
  }
}
