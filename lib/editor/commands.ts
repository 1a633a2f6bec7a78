/** Toolbar commands and the "is it active?" checks that light up toolbar buttons. */
import { lift, setBlockType, toggleMark, wrapIn } from 'prosemirror-commands';
import type { MarkType, NodeType } from 'prosemirror-model';
import type { Command, EditorState, Transaction } from 'prosemirror-state';
import { liftListItem, sinkListItem, wrapInList } from 'prosemirror-schema-list';
import { redo, undo } from 'y-prosemirror';
import { safeLinkHref } from './linkPolicy';
import { schema } from './schema';

export function markActive(state: EditorState, type: MarkType): boolean {
  const { from, $from, to, empty } = state.selection;
  if (empty) return Boolean(type.isInSet(state.storedMarks ?? $from.marks()));
  return state.doc.rangeHasMark(from, to, type);
}

export function blockActive(state: EditorState, type: NodeType, attrs?: Record<string, unknown>): boolean {
  const { $from, to } = state.selection;
  if (to > $from.end()) return false;
  const parent = $from.parent;
  if (parent.type !== type) return false;
  return !attrs || Object.entries(attrs).every(([k, v]) => parent.attrs[k] === v);
}

export function wrappedIn(state: EditorState, type: NodeType): boolean {
  const { $from } = state.selection;
  for (let depth = $from.depth; depth > 0; depth--) if ($from.node(depth).type === type) return true;
  return false;
}

/** Toggles a block type: applying it again turns the block back into a paragraph. */
export function toggleBlock(type: NodeType, attrs?: Record<string, unknown>): Command {
  return (state, dispatch) => {
    if (blockActive(state, type, attrs)) return setBlockType(schema.nodes.paragraph!)(state, dispatch);
    return setBlockType(type, attrs)(state, dispatch);
  };
}

/** Toggles a wrapper (list or quote). */
export function toggleWrap(type: NodeType): Command {
  const isList = type === schema.nodes.bullet_list || type === schema.nodes.ordered_list;
  return (state, dispatch) => {
    if (wrappedIn(state, type)) return isList ? liftListItem(schema.nodes.list_item!)(state, dispatch) : lift(state, dispatch);
    return isList ? wrapInList(type)(state, dispatch) : wrapIn(type)(state, dispatch);
  };
}

export const insertHorizontalRule: Command = (state, dispatch) => {
  dispatch?.(state.tr.replaceSelectionWith(schema.nodes.horizontal_rule!.create()).scrollIntoView());
  return true;
};

export type LinkResult = 'added' | 'removed' | 'invalid' | 'no-selection';

/** Adds a link to the selection, or removes the link if the selection has one. */
export function applyLink(state: EditorState, dispatch: ((tr: Transaction) => void) | undefined, href: string | null): LinkResult {
  const type = schema.marks.link!;
  const { from, to, empty } = state.selection;
  if (markActive(state, type)) {
    dispatch?.(state.tr.removeMark(from, to, type));
    return 'removed';
  }
  if (empty) return 'no-selection';
  const safe = href === null ? null : safeLinkHref(href);
  if (!safe) return 'invalid';
  dispatch?.(state.tr.addMark(from, to, type.create({ href: safe })).scrollIntoView());
  return 'added';
}

export const commands = {
  undo,
  redo,
  bold: toggleMark(schema.marks.strong!),
  italic: toggleMark(schema.marks.em!),
  code: toggleMark(schema.marks.code!),
  paragraph: setBlockType(schema.nodes.paragraph!),
  heading: (level: number) => toggleBlock(schema.nodes.heading!, { level }),
  codeBlock: toggleBlock(schema.nodes.code_block!),
  blockquote: toggleWrap(schema.nodes.blockquote!),
  bulletList: toggleWrap(schema.nodes.bullet_list!),
  orderedList: toggleWrap(schema.nodes.ordered_list!),
  indent: sinkListItem(schema.nodes.list_item!),
  outdent: liftListItem(schema.nodes.list_item!),
  horizontalRule: insertHorizontalRule,
};
