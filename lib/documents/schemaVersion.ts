/**
 * The schema versions that have written a document (issue #15, item 6). y-prosemirror deletes
 * every element it cannot map to its schema, so an editor older than a document's content must
 * not bind to it: the document records the versions of the editors that wrote it, and an editor
 * (or the relay, for an editor's connection) compares its own version with the highest.
 *
 * The record is a grow-only set, one key per version in the Y.Map `concord`:
 * `schemaVersion:<n>` = n. One shared `schemaVersion` key would be last-writer-wins: an older
 * editor writing 1 concurrently with a newer one writing 2 could leave 1 recorded over content
 * of version 2. Distinct keys never conflict, so the highest version only ever rises, and an
 * editor may record its version before its first sync (offline) without lowering anyone's.
 */
import * as Y from 'yjs';

/** The Y.Map of Concord's own document metadata. */
export const CONCORD_MAP = 'concord';

const KEY_PREFIX = 'schemaVersion:';

/** The key recording that an editor of schema `version` wrote the document. */
export function schemaVersionKey(version: number): string {
  return `${KEY_PREFIX}${version}`;
}

export function concordMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(CONCORD_MAP);
}

/** The version a key and its value record, or null when they are not a well-formed record. */
function recordedBy(key: string, value: unknown): number | null {
  if (!key.startsWith(KEY_PREFIX)) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) return null;
  return key === schemaVersionKey(value) ? value : null;
}

/** The highest schema version that wrote `doc`, or null when none recorded one. */
export function recordedSchemaVersion(doc: Y.Doc): number | null {
  let highest: number | null = null;
  for (const [key, value] of concordMap(doc).entries()) {
    const version = recordedBy(key, value);
    if (version !== null && (highest === null || version > highest)) highest = version;
  }
  return highest;
}

/**
 * The highest version recorded by the keys `transaction` wrote, or null when it recorded none.
 * Reads only what the transaction touched, so its cost does not grow with the map (the relay
 * runs it on every change). Call `concordMap(doc)` before the transaction starts: a root type
 * the transaction itself creates is replaced by a new object when it is first read as a map.
 */
export function schemaVersionRecordedBy(transaction: Y.Transaction, doc: Y.Doc): number | null {
  const map = concordMap(doc);
  // Yjs types the keys of `changed` with a base event type a Y.Map's handler does not accept.
  const keys = transaction.changed.get(map as unknown as Parameters<typeof transaction.changed.get>[0]);
  if (!keys) return null;
  let highest: number | null = null;
  for (const key of keys) {
    if (key === null) continue;
    const version = recordedBy(key, map.get(key));
    if (version !== null && (highest === null || version > highest)) highest = version;
  }
  return highest;
}

/** Records that an editor of schema `version` writes `doc`, unless a version as high is recorded. */
export function recordSchemaVersion(doc: Y.Doc, version: number, origin: unknown): boolean {
  const recorded = recordedSchemaVersion(doc);
  if (recorded !== null && recorded >= version) return false;
  doc.transact(() => concordMap(doc).set(schemaVersionKey(version), version), origin);
  return true;
}

/**
 * The schema version a `schema` query value declares: null when absent (a stock client, not one
 * of our editors). A value that is not a small integer declares no version we could trust to be
 * current, so it counts as 0: older than any document that records one.
 */
export function declaredSchemaVersion(value: string | null): number | null {
  if (value === null) return null;
  return /^\d{1,6}$/.test(value) ? Number(value) : 0;
}
