/**
 * Keyboard shortcuts. Undo/redo are y-prosemirror's (they only undo your own changes, never a
 * collaborator's), so prosemirror-history is deliberately not used.
 */
import { chainCommands, exitCode, joinDown, joinUp, lift, selectParentNode, setBlockType, toggleMark, wrapIn } from 'prosemirror-commands';
import type { Command } from 'prosemirror-state';
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list';
import { redo, undo } from 'y-prosemirror';
import { insertHorizontalRule } from './commands';
import { schema } from './schema';

const mac = typeof navigator !== 'undefined' ? /Mac|iP(hone|[oa]d)/.test(navigator.platform) : false;

const insertHardBreak: Command = chainCommands(exitCode, (state, dispatch) => {
  dispatch?.(state.tr.replaceSelectionWith(schema.nodes.hard_break!.create()).scrollIntoView());
  return true;
});

export function buildKeymap(): Record<string, Command> {
  const { nodes, marks } = schema;
  const keys: Record<string, Command> = {
    'Mod-z': undo,
    'Mod-Shift-z': redo,
    'Mod-b': toggleMark(marks.strong!),
    'Mod-B': toggleMark(marks.strong!),
    'Mod-i': toggleMark(marks.em!),
    'Mod-I': toggleMark(marks.em!),
    'Mod-`': toggleMark(marks.code!),
    'Alt-ArrowUp': joinUp,
    'Alt-ArrowDown': joinDown,
    'Mod-BracketLeft': lift,
    Escape: selectParentNode,
    'Shift-Ctrl-8': wrapInList(nodes.bullet_list!),
    'Shift-Ctrl-9': wrapInList(nodes.ordered_list!),
    'Ctrl->': wrapIn(nodes.blockquote!),
    'Mod-Enter': insertHardBreak,
    'Shift-Enter': insertHardBreak,
    Enter: splitListItem(nodes.list_item!),
    Tab: sinkListItem(nodes.list_item!),
    'Shift-Tab': liftListItem(nodes.list_item!),
    'Mod-]': sinkListItem(nodes.list_item!),
    'Mod-[': liftListItem(nodes.list_item!),
    'Shift-Ctrl-0': setBlockType(nodes.paragraph!),
    'Shift-Ctrl-\\': setBlockType(nodes.code_block!),
    'Mod-_': insertHorizontalRule,
  };
  if (!mac) keys['Mod-y'] = redo;
  for (const level of [1, 2, 3]) {
    keys[`Shift-Ctrl-${level}`] = setBlockType(nodes.heading!, { level });
    keys[`Mod-Alt-${level}`] = setBlockType(nodes.heading!, { level });
  }
  return keys;
}
