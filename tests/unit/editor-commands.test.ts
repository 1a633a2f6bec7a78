import { describe, expect, it } from 'vitest';
import type { Node } from 'prosemirror-model';
import { EditorState, TextSelection, type Command, type Transaction } from 'prosemirror-state';
import { applyLink, blockActive, commands, markActive, wrappedIn } from '../../lib/editor/commands';
import { schema } from '../../lib/editor/schema';

const { nodes, marks } = schema;
const p = (text: string) => nodes.paragraph!.create(null, text ? schema.text(text) : undefined);
const li = (text: string) => nodes.list_item!.create(null, p(text));

function stateOf(doc: Node, from: number, to = from): EditorState {
  const state = EditorState.create({ schema, doc });
  return state.apply(state.tr.setSelection(TextSelection.create(state.doc, from, to)));
}

/** Runs a command; returns the new state (or the same one if it did not apply). */
function run(state: EditorState, command: Command): EditorState {
  let next = state;
  command(state, (tr: Transaction) => (next = state.apply(tr)));
  return next;
}

describe('toolbar commands', () => {
  it('toggles bold, italic and code on a selection and reports them active', () => {
    let state = stateOf(nodes.doc!.create(null, p('hello world')), 1, 6);
    state = run(state, commands.bold);
    expect(markActive(state, marks.strong!)).toBe(true);
    state = run(state, commands.italic);
    state = run(state, commands.code);
    expect(markActive(state, marks.em!)).toBe(true);
    expect(markActive(state, marks.code!)).toBe(true);
    state = run(state, commands.bold);
    expect(markActive(state, marks.strong!)).toBe(false);
  });

  it('toggles headings 1–3 and back to a paragraph', () => {
    let state = stateOf(nodes.doc!.create(null, p('Title')), 2);
    for (const level of [1, 2, 3]) {
      state = run(state, commands.heading(level));
      expect(state.doc.firstChild!.type.name).toBe('heading');
      expect(state.doc.firstChild!.attrs.level).toBe(level);
      expect(blockActive(state, nodes.heading!, { level })).toBe(true);
    }
    state = run(state, commands.heading(3));
    expect(state.doc.firstChild!.type.name).toBe('paragraph');
  });

  it('toggles a code block', () => {
    let state = stateOf(nodes.doc!.create(null, p('x = 1')), 2);
    state = run(state, commands.codeBlock);
    expect(state.doc.firstChild!.type.name).toBe('code_block');
    state = run(state, commands.codeBlock);
    expect(state.doc.firstChild!.type.name).toBe('paragraph');
  });

  it('wraps in and lifts out of lists and quotes', () => {
    for (const [command, type] of [
      [commands.bulletList, nodes.bullet_list!],
      [commands.orderedList, nodes.ordered_list!],
      [commands.blockquote, nodes.blockquote!],
    ] as const) {
      let state = stateOf(nodes.doc!.create(null, p('item')), 2);
      state = run(state, command);
      expect(state.doc.firstChild!.type).toBe(type);
      expect(wrappedIn(state, type)).toBe(true);
      state = run(state, command);
      expect(state.doc.firstChild!.type.name).toBe('paragraph');
      expect(state.doc.textContent).toBe('item');
    }
  });

  it('indents and outdents list items', () => {
    const doc = nodes.doc!.create(null, nodes.bullet_list!.create(null, [li('one'), li('two')]));
    // Inside "two": doc(0) > bullet_list(1) > li("one") is 7 wide, so li("two") starts at 8.
    let state = stateOf(doc, 11);
    state = run(state, commands.indent);
    const outer = state.doc.firstChild!;
    expect(outer.childCount).toBe(1);
    expect(outer.firstChild!.lastChild!.type).toBe(nodes.bullet_list);
    state = run(state, commands.outdent);
    expect(state.doc.firstChild!.childCount).toBe(2);
  });

  it('inserts a horizontal rule', () => {
    const state = run(stateOf(nodes.doc!.create(null, p('')), 1), commands.horizontalRule);
    let found = false;
    state.doc.descendants((node) => {
      if (node.type === nodes.horizontal_rule) found = true;
    });
    expect(found).toBe(true);
  });
});

describe('applyLink', () => {
  it('adds a safe link to the selection', () => {
    const state = stateOf(nodes.doc!.create(null, p('see docs')), 5, 9);
    let next = state;
    expect(applyLink(state, (tr) => (next = state.apply(tr)), 'https://example.com/docs')).toBe('added');
    const mark = next.doc.firstChild!.child(1).marks[0]!;
    expect(mark.type).toBe(marks.link);
    expect(mark.attrs.href).toBe('https://example.com/docs');
  });

  it('refuses unsafe links and changes nothing', () => {
    const state = stateOf(nodes.doc!.create(null, p('click me')), 1, 6);
    let dispatched = false;
    expect(applyLink(state, () => (dispatched = true), 'javascript:alert(1)')).toBe('invalid');
    expect(applyLink(state, () => (dispatched = true), 'ftp://example.com')).toBe('invalid');
    expect(dispatched).toBe(false);
  });

  it('needs a selection, and removes an existing link', () => {
    const empty = stateOf(nodes.doc!.create(null, p('text')), 2);
    expect(applyLink(empty, undefined, 'https://example.com')).toBe('no-selection');
    const linked = nodes.doc!.create(null, nodes.paragraph!.create(null, schema.text('link', [marks.link!.create({ href: 'https://a.example/' })])));
    const state = stateOf(linked, 1, 5);
    let next = state;
    expect(applyLink(state, (tr) => (next = state.apply(tr)), null)).toBe('removed');
    expect(markActive(next, marks.link!)).toBe(false);
  });
});
