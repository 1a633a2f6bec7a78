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

const encoder = new TextEncoder();

/** SHA-256 over the replica's snapshot (delete set + state vector), body and title. */
export function documentDigest(doc: Y.Doc): Uint8Array {
  const snapshot = Y.encodeSnapshot(Y.snapshot(doc));
  const shown = encoder.encode(`${doc.getXmlFragment(BODY_FRAGMENT).toString()}\0${doc.getText(TITLE_TEXT).toString()}`);
  const message = new Uint8Array(snapshot.byteLength + shown.byteLength);
  message.set(snapshot);
  message.set(shown, snapshot.byteLength);
  return sha256(message);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
