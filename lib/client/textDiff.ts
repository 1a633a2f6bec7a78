/**
 * Binding a plain text input to a shared Y.Text. Pure helpers, so the tricky index arithmetic is
 * unit-tested apart from React and the DOM.
 *
 * Why minimal edits: replacing the whole Y.Text on every keystroke would turn two people typing in
 * the title at once into "last writer wins" (each replace deletes the other's characters). A
 * single splice at the changed span lets Yjs merge concurrent edits character by character.
 */

/** One splice: delete `deleteCount` characters at `index`, then insert `insert` there. */
export interface TextSplice {
  index: number;
  deleteCount: number;
  insert: string;
}

/** The smallest single splice that turns `current` into `next`, or null when they are equal. */
export function diffText(current: string, next: string): TextSplice | null {
  if (current === next) return null;
  let start = 0;
  const shorter = Math.min(current.length, next.length);
  while (start < shorter && current[start] === next[start]) start++;
  let endCurrent = current.length;
  let endNext = next.length;
  while (endCurrent > start && endNext > start && current[endCurrent - 1] === next[endNext - 1]) {
    endCurrent--;
    endNext--;
  }
  // Never split a surrogate pair: a lone half would be stored (and shown) as a broken character.
  if (start > 0 && isHighSurrogate(current.charCodeAt(start - 1))) start--;
  if (endCurrent < current.length && isLowSurrogate(current.charCodeAt(endCurrent))) {
    endCurrent++;
    endNext++;
  }
  return { index: start, deleteCount: endCurrent - start, insert: next.slice(start, endNext) };
}

/** A Yjs text delta (Y.YTextEvent#delta) restricted to what a plain-text Y.Text produces. */
export type TextDelta = ReadonlyArray<{ retain?: number; insert?: unknown; delete?: number }>;

/**
 * Where a caret at `index` ends up after a remote change described by `delta`: text inserted
 * before it pushes it right, text deleted before it pulls it left. An insertion exactly at the
 * caret goes before it when `bias` is 'after' (the caret stays after the typed text of others)
 * and leaves it in place when 'before'.
 */
export function mapIndexThroughDelta(index: number, delta: TextDelta, bias: 'before' | 'after' = 'before'): number {
  let pos = 0; // position in the old text
  let mapped = index;
  for (const op of delta) {
    if (pos > index) break;
    if (op.retain !== undefined) {
      pos += op.retain;
    } else if (op.insert !== undefined) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1;
      if (pos < index || (pos === index && bias === 'after')) mapped += length;
    } else if (op.delete !== undefined) {
      const removedBeforeCaret = Math.max(0, Math.min(op.delete, index - pos));
      mapped -= removedBeforeCaret;
      pos += op.delete;
    }
  }
  return Math.max(0, mapped);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
