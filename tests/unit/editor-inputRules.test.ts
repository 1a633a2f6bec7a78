import { describe, expect, it } from 'vitest';
import { EditorState, TextSelection, type Plugin } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { buildInputRules } from '../../lib/editor/inputRules';
import { schema } from '../../lib/editor/schema';

/**
 * Types `text` one character at a time the way ProseMirror's view does: the input-rules plugin
 * gets each character first, and it is inserted normally when no rule fires. A minimal stand-in
 * for the view is enough, because the plugin only reads `state` and calls `dispatch`.
 */
function type(text: string, start?: EditorState): EditorState {
  const plugin: Plugin = start ? start.plugins[0]! : buildInputRules();
  let state = start ?? EditorState.create({ schema, plugins: [plugin] });
  const view = {
    composing: false,
    get state() {
      return state;
    },
    dispatch(tr: Parameters<EditorState['apply']>[0]) {
      state = state.apply(tr);
    },
  } as unknown as EditorView;
  for (const char of text) {
    const { from, to } = state.selection;
    const handled = plugin.props.handleTextInput?.call(plugin, view, from, to, char, () => state.tr);
    if (!handled) state = state.apply(state.tr.insertText(char, from, to));
  }
  return state;
}

describe('Markdown input rules', () => {
  it('turns #, ## and ### into headings', () => {
    for (const level of [1, 2, 3]) {
      const block = type(`${'#'.repeat(level)} Title`).doc.firstChild!;
      expect(block.type.name).toBe('heading');
      expect(block.attrs.level).toBe(level);
      expect(block.textContent).toBe('Title');
    }
    // Four hashes are not a heading we offer.
    expect(type('#### x').doc.firstChild!.type.name).toBe('paragraph');
  });

  it('turns "- " and "* " into bullet lists and "1. " into a numbered list', () => {
    expect(type('- item').doc.firstChild!.type.name).toBe('bullet_list');
    expect(type('* item').doc.firstChild!.type.name).toBe('bullet_list');
    const ordered = type('1. first').doc.firstChild!;
    expect(ordered.type.name).toBe('ordered_list');
    expect(ordered.textContent).toBe('first');
  });

  it('turns "> " into a quote and three backticks into a code block', () => {
    expect(type('> quoted').doc.firstChild!.type.name).toBe('blockquote');
    const code = type('```let x').doc.firstChild!;
    expect(code.type.name).toBe('code_block');
    expect(code.textContent).toBe('let x');
  });

  it('leaves the same characters alone in the middle of a line', () => {
    const state = type('a # b - c > d');
    expect(state.doc.childCount).toBe(1);
    expect(state.doc.firstChild!.type.name).toBe('paragraph');
    expect(state.doc.textContent).toBe('a # b - c > d');
  });

  it('does not rewrite text inside a code block', () => {
    const inCode = type('```');
    expect(inCode.doc.firstChild!.type.name).toBe('code_block');
    const state = type('# not a heading - or a list', inCode.apply(inCode.tr.setSelection(TextSelection.atEnd(inCode.doc))));
    expect(state.doc.childCount).toBe(1);
    expect(state.doc.firstChild!.type.name).toBe('code_block');
    expect(state.doc.firstChild!.textContent).toBe('# not a heading - or a list');
  });
});
