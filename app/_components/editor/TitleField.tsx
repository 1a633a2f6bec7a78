'use client';

import { useEffect, useRef, useState } from 'react';
import type * as Y from 'yjs';
import { UNTITLED } from '../../../lib/documents/dataModel';

export const MAX_TITLE_LENGTH = 200;

/** The shared title: an input bound to a Y.Text, edited by minimal diffs so concurrent edits merge. */
export default function TitleField({ title, editable }: { title: Y.Text; editable: boolean }) {
  const [value, setValue] = useState(() => title.toString());
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onChange = () => {
      const next = title.toString();
      const el = input.current;
      // Keep the caret where it was when a collaborator edits the title.
      const caret = el && document.activeElement === el ? [el.selectionStart, el.selectionEnd] : null;
      setValue(next);
      if (caret && el) requestAnimationFrame(() => el.setSelectionRange(caret[0] ?? null, caret[1] ?? null));
    };
    onChange();
    title.observe(onChange);
    return () => title.unobserve(onChange);
  }, [title]);

  function onInput(next: string) {
    const current = title.toString();
    let start = 0;
    while (start < current.length && start < next.length && current[start] === next[start]) start++;
    let endCurrent = current.length;
    let endNext = next.length;
    while (endCurrent > start && endNext > start && current[endCurrent - 1] === next[endNext - 1]) {
      endCurrent--;
      endNext--;
    }
    title.doc?.transact(() => {
      if (endCurrent > start) title.delete(start, endCurrent - start);
      if (endNext > start) title.insert(start, next.slice(start, endNext));
    });
  }

  return (
    <input
      ref={input}
      className="title-input"
      data-testid="title"
      aria-label="Document title"
      placeholder={UNTITLED}
      value={value}
      maxLength={MAX_TITLE_LENGTH}
      readOnly={!editable}
      onChange={(e) => onInput(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') (document.querySelector('.ProseMirror') as HTMLElement | null)?.focus();
      }}
    />
  );
}
