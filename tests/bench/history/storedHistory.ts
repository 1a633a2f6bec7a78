/**
 * What a document's version history costs in storage, read from a stopped server's data
 * directory: the version records (keyframes, diffs and the deletions they carry), and — measured
 * here only, server/ and lib/history/ unchanged — what deflating each record's update (zlib
 * deflate-raw, level 6) would save. For reference, the diffs' size had they carried the whole
 * delete set of their version (the record format before commit 099186a), rebuilt along each chain.
 */
import zlib from 'node:zlib';
import * as Y from 'yjs';
import { historyDocId, listVersions, type VersionRecord } from '../../../lib/history/versionModel';
import { SqliteStore } from '../../../server/storage/SqliteStore';
import { sqliteFileBytes } from '../documents/concordStorage';

export interface StoredRows {
  /** SQLite files incl. WAL and free pages. */
  fileBytes: number;
  /** The document's rows (snapshot + log). */
  documentBytes: number;
  /** Its history document's rows (0 without history). */
  historyBytes: number;
}

export interface HistoryAnalysis {
  versions: number;
  keyframes: number;
  longestChain: number;
  /** Sum of the records' `update` bytes, and of the keyframes' alone. */
  updateBytes: number;
  keyframeBytes: number;
  /** Of the diffs' bytes: their delete sets (the deletions since their base). */
  diffDeleteSetBytes: number;
  /** The records had each diff carried its version's whole delete set. */
  wholeDeleteSetBytes: number;
  /** Every record's update deflated. */
  deflatedBytes: number;
  /** The history document's whole state (encodeStateAsUpdate) deflated at once. */
  historyStateBytes: number;
  deflatedHistoryStateBytes: number;
}

export async function storedRows(dataDir: string, docId: string): Promise<StoredRows & { historyUpdates: Uint8Array[] }> {
  const fileBytes = sqliteFileBytes(dataDir);
  const store = new SqliteStore(dataDir);
  try {
    const document = await store.load(docId);
    const history = await store.load(historyDocId(docId));
    return { fileBytes, documentBytes: document.bytes, historyBytes: history.bytes, historyUpdates: history.updates };
  } finally {
    await store.close();
  }
}

type DeleteSet = ReturnType<typeof Y.createDeleteSet>;

/** A record's delete set: an update with its structs cut away is one 0 byte, then the delete set. */
function deleteSetOf(record: VersionRecord): { ds: DeleteSet; bytes: number } {
  const deletesOnly = Y.diffUpdate(record.update, record.stateVector);
  return { ds: Y.decodeUpdate(deletesOnly).ds, bytes: deletesOnly.byteLength - 1 };
}

/** Bytes of a delete set in V1 encoding (a snapshot is delete set · state vector; an empty one is one 0 byte). */
function encodedSize(ds: DeleteSet): number {
  return Y.encodeSnapshot(Y.createSnapshot(ds, new Map())).byteLength - 1;
}

export function analyseHistory(historyUpdates: Uint8Array[]): HistoryAnalysis {
  const history = new Y.Doc();
  history.transact(() => historyUpdates.forEach((u) => Y.applyUpdate(history, u)));
  const records = listVersions(history);
  const byId = new Map(records.map((r) => [r.id, r]));
  /** Each version's whole delete set: its own deletions merged with its base's whole set. */
  const wholeDeletes = new Map<string, DeleteSet>();
  const chainOf = new Map<string, number>();
  let diffDeleteSetBytes = 0;
  let wholeDeleteSetBytes = 0;
  let updateBytes = 0;
  let keyframeBytes = 0;
  let deflatedBytes = 0;
  let keyframes = 0;
  for (const record of records) {
    const base = record.base === null ? undefined : byId.get(record.base);
    if (record.base !== null && (!base || !wholeDeletes.has(base.id))) throw new Error(`version ${record.id}: its base ${record.base} is missing or newer`);
    const own = deleteSetOf(record);
    updateBytes += record.update.byteLength;
    deflatedBytes += zlib.deflateRawSync(record.update).byteLength;
    if (!base) {
      keyframes++;
      keyframeBytes += record.update.byteLength;
      chainOf.set(record.id, 1);
      wholeDeletes.set(record.id, own.ds);
      wholeDeleteSetBytes += record.update.byteLength;
      continue;
    }
    chainOf.set(record.id, chainOf.get(base.id)! + 1);
    const whole = Y.mergeDeleteSets([wholeDeletes.get(base.id)!, own.ds]);
    wholeDeletes.set(record.id, whole);
    diffDeleteSetBytes += own.bytes;
    wholeDeleteSetBytes += record.update.byteLength - own.bytes + encodedSize(whole);
  }
  const state = Y.encodeStateAsUpdate(history);
  return {
    versions: records.length,
    keyframes,
    longestChain: Math.max(0, ...chainOf.values()),
    updateBytes,
    keyframeBytes,
    diffDeleteSetBytes,
    wholeDeleteSetBytes,
    deflatedBytes,
    historyStateBytes: state.byteLength,
    deflatedHistoryStateBytes: zlib.deflateRawSync(state).byteLength,
  };
}
