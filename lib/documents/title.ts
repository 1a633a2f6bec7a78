/**
 * Reading and replacing a document's title. Everything that reads or sets the title as a whole
 * (exports, restore, the editor's title field) goes through here, so its representation can
 * change in one place.
 */
import * as Y from 'yjs';
import { TITLE_TEXT } from './dataModel';
import { diffText } from '../client/textDiff';

/** The title as shown (may be empty). */
export function readTitle(doc: Y.Doc): string {
  return doc.getText(TITLE_TEXT).toString();
}

/** Makes the title `value` with the smallest edit, so concurrent edits elsewhere in it merge. */
export function setTitle(doc: Y.Doc, value: string): void {
  const text = doc.getText(TITLE_TEXT);
  const splice = diffText(text.toString(), value);
  if (!splice) return;
  doc.transact(() => {
    if (splice.deleteCount > 0) text.delete(splice.index, splice.deleteCount);
    if (splice.insert.length > 0) text.insert(splice.index, splice.insert);
  });
}
