/** The editor's plugin list: collaboration (sync, cursors, own-change undo), keys, input rules. */
import { baseKeymap } from 'prosemirror-commands';
import { dropCursor } from 'prosemirror-dropcursor';
import { gapCursor } from 'prosemirror-gapcursor';
import { keymap } from 'prosemirror-keymap';
import type { Plugin } from 'prosemirror-state';
import { yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror';
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { authorshipPlugin } from './authorship';
import { buildInputRules } from './inputRules';
import { buildKeymap } from './keymap';

export function collaborativePlugins(fragment: Y.XmlFragment, awareness: Awareness): Plugin[] {
  return [
    ySyncPlugin(fragment),
    yCursorPlugin(awareness),
    yUndoPlugin(),
    authorshipPlugin(fragment),
    buildInputRules(),
    keymap(buildKeymap()),
    keymap(baseKeymap),
    dropCursor(),
    gapCursor(),
  ];
}
