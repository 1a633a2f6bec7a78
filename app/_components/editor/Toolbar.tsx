'use client';

import { useState } from 'react';
import type { EditorState, Command } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { applyLink, blockActive, commands, markActive, wrappedIn } from '../../../lib/editor/commands';
import { authorsShown, showAuthors } from '../../../lib/editor/authorship';
import { schema } from '../../../lib/editor/schema';
import HistoryButton from './history/HistoryButton';

interface Props {
  view: EditorView | null;
  state: EditorState | null;
  /** The version history panel's toggle. */
  history?: { open: boolean; onToggle(): void };
}

interface Button {
  label: string;
  title: string;
  text: string;
  run: Command;
  active?: (state: EditorState) => boolean;
}

const mod = typeof navigator !== 'undefined' && /Mac|iP(hone|[oa]d)/.test(navigator.platform) ? '⌘' : 'Ctrl+';

const GROUPS: Button[][] = [
  [
    { label: 'Undo', title: `Undo your last change (${mod}Z)`, text: '↶', run: commands.undo },
    { label: 'Redo', title: `Redo (${mod}Shift+Z)`, text: '↷', run: commands.redo },
  ],
  [
    { label: 'Bold', title: `Bold (${mod}B)`, text: 'B', run: commands.bold, active: (s) => markActive(s, schema.marks.strong!) },
    { label: 'Italic', title: `Italic (${mod}I)`, text: 'I', run: commands.italic, active: (s) => markActive(s, schema.marks.em!) },
    { label: 'Inline code', title: `Inline code (${mod}\`)`, text: '</>', run: commands.code, active: (s) => markActive(s, schema.marks.code!) },
  ],
  [1, 2, 3].map((level) => ({
    label: `Heading ${level}`,
    title: `Heading ${level} (${mod}Alt+${level}, or type ${'#'.repeat(level)} and a space)`,
    text: `H${level}`,
    run: commands.heading(level),
    active: (s: EditorState) => blockActive(s, schema.nodes.heading!, { level }),
  })),
  [
    { label: 'Bullet list', title: 'Bullet list (type - and a space)', text: '•', run: commands.bulletList, active: (s) => wrappedIn(s, schema.nodes.bullet_list!) },
    { label: 'Numbered list', title: 'Numbered list (type 1. and a space)', text: '1.', run: commands.orderedList, active: (s) => wrappedIn(s, schema.nodes.ordered_list!) },
    { label: 'Outdent', title: 'Outdent list item (Shift+Tab)', text: '⇤', run: commands.outdent },
    { label: 'Indent', title: 'Indent list item (Tab)', text: '⇥', run: commands.indent },
  ],
  [
    { label: 'Quote', title: 'Quote (type > and a space)', text: '❝', run: commands.blockquote, active: (s) => wrappedIn(s, schema.nodes.blockquote!) },
    { label: 'Code block', title: 'Code block (type ``` )', text: '{ }', run: commands.codeBlock, active: (s) => blockActive(s, schema.nodes.code_block!) },
    { label: 'Horizontal rule', title: 'Horizontal rule', text: '―', run: commands.horizontalRule },
  ],
];

export default function Toolbar({ view, state, history }: Props) {
  const [notice, setNotice] = useState<string | null>(null);
  const disabled = !view || !state || !view.editable;

  function run(command: Command) {
    if (!view) return;
    command(view.state, view.dispatch, view);
    view.focus();
  }

  function onLink() {
    if (!view) return;
    const isLink = markActive(view.state, schema.marks.link!);
    if (!isLink && view.state.selection.empty) {
      setNotice('Select the text to turn into a link first.');
      return;
    }
    const href = isLink ? null : window.prompt('Link address (http://, https:// or mailto:)', 'https://');
    if (!isLink && href === null) return;
    const result = applyLink(view.state, view.dispatch, href);
    setNotice(result === 'invalid' ? 'Only http, https and mailto links are allowed.' : null);
    view.focus();
  }

  return (
    <div className="toolbar" role="toolbar" aria-label="Formatting" data-testid="toolbar">
      {GROUPS.map((group, i) => (
        <div className="toolbar-group" key={i}>
          {group.map((button) => {
            const active = state && button.active ? button.active(state) : false;
            return (
              <button
                key={button.label}
                type="button"
                className={`tool${active ? ' active' : ''}`}
                aria-label={button.label}
                aria-pressed={button.active ? active : undefined}
                title={button.title}
                disabled={disabled}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => run(button.run)}
              >
                {button.text}
              </button>
            );
          })}
        </div>
      ))}
      <div className="toolbar-group">
        <button
          type="button"
          className={`tool${state && authorsShown(state) ? ' active' : ''}`}
          aria-pressed={state ? authorsShown(state) : false}
          title="Colour the text by who wrote it (hover for the name)"
          disabled={!view || !state}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => view && showAuthors(view, !authorsShown(view.state))}
        >
          Authorship
        </button>
      </div>
      <div className="toolbar-group">
        <button
          type="button"
          className={`tool${state && markActive(state, schema.marks.link!) ? ' active' : ''}`}
          aria-label="Link"
          title="Add or remove a link"
          disabled={disabled}
          onMouseDown={(e) => e.preventDefault()}
          onClick={onLink}
        >
          Link
        </button>
      </div>
      {history && (
        <div className="toolbar-group">
          <HistoryButton open={history.open} onToggle={history.onToggle} />
        </div>
      )}
      {notice && (
        <p className="toolbar-notice" role="status">
          {notice}
        </p>
      )}
    </div>
  );
}
