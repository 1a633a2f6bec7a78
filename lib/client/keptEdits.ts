/**
 * How many edits of each document this device keeps that the server has not stored yet, in
 * localStorage so the count survives reloads and is visible from the start page.
 */
import type { KeyValueStorage } from './browserStorage';

const PREFIX = 'concord:unsaved:';

function key(docId: string): string {
  return `${PREFIX}${docId}`;
}

export function readKeptEdits(storage: KeyValueStorage, docId: string): number {
  const count = Number(storage.getItem(key(docId)) ?? 0);
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

export function writeKeptEdits(storage: KeyValueStorage, docId: string, count: number): void {
  if (count > 0) storage.setItem(key(docId), String(count));
  else storage.removeItem(key(docId));
}
