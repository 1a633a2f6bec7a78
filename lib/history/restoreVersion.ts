/**
 * Making a version the current content again, as a new change (issue #16, item 4). The browser
 * (so that its undo manager can take the restore back) and the server's restore endpoint both
 * call this.
 *
 * The body is brought to the version's content by y-prosemirror's structural diff, the one its
 * editor binding uses for every keystroke: elements and text the version shares with the
 * current document are kept as they are, only what differs is deleted or inserted. So an edit
 * someone made offline inside a paragraph the restore leaves alone survives the restore when it
 * arrives, and history is added to, never rewritten.
 */
import * as Y from 'yjs';
import { updateYFragment } from 'y-prosemirror';
import { BODY_FRAGMENT } from '../documents/dataModel';
import { readBody } from '../documents/readBody';
import { readTitle, setTitle } from '../documents/title';

/** Changes `target`'s body and title into `version`'s, in one transaction tagged `origin`. */
export function restoreInto(target: Y.Doc, version: Y.Doc, origin: unknown = null): void {
  // readBody, not y-prosemirror's reader, which deletes what the schema cannot build (README, "Data model").
  const content = readBody(version.getXmlFragment(BODY_FRAGMENT));
  const title = readTitle(version);
  target.transact(() => {
    updateYFragment(target, target.getXmlFragment(BODY_FRAGMENT), content, { mapping: new Map(), isOMark: new Map() });
    setTitle(target, title);
  }, origin);
}
