/**
 * A digest of a replica: what it has seen (state vector), what it has deleted (delete set) and
 * what it shows (body and title). Two replicas with equal state vectors can still differ — a lost
 * deletion, or content integrated differently — and a state vector alone cannot show it; equal
 * digests at equal state vectors say they agree. Computed the same way in the browser and on the
 * server (every part is encoded canonically: Yjs sorts clients and merges delete ranges).
 */
import * as Y from 'yjs';
import { sha256 } from '@noble/hashes/sha2.js';
import { BODY_FRAGMENT, TITLE_TEXT } from '../documents/dataModel';
import { LEGACY_TITLE_ID, titleState } from '../documents/title';

const encoder = new TextEncoder();

/** SHA-256 over the replica's snapshot (delete set + state vector), body and title. */
export function documentDigest(doc: Y.Doc): Uint8Array {
  const snapshot = Y.encodeSnapshot(Y.snapshot(doc));
  const shown = encoder.encode(`${doc.getXmlFragment(BODY_FRAGMENT).toString()}\0${doc.getText(TITLE_TEXT).toString()}${titleCandidates(doc)}`);
  const message = new Uint8Array(snapshot.byteLength + shown.byteLength);
  message.set(snapshot);
  message.set(shown, snapshot.byteLength);
  return sha256(message);
}

/**
 * The title register's candidates (IDs and values, in titleState's order, the same on every
 * replica of equal content), when it has any: nothing for a document without one, whose digest
 * stays what it was before the register, so pages of an older build still agree on it.
 */
function titleCandidates(doc: Y.Doc): string {
  const { candidates } = titleState(doc);
  if (candidates.length === 1 && candidates[0]!.id === LEGACY_TITLE_ID) return '';
  return `\0${JSON.stringify(candidates.map((c) => [c.id, c.value]))}`;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
