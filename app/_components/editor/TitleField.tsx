'use client';

import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type * as Y from 'yjs';
import { diffText, mapIndexThroughDelta } from '../../../lib/client/textDiff';
import { UNTITLED } from '../../../lib/documents/dataModel';

export const MAX_TITLE_LENGTH = 200;

/** Marks our own title transactions, so the observer does not move our caret for our own typing. */
const LOCAL_ORIGIN = Symbol('concord-title-input');

/** The shared title: an input bound to a Y.Text, edited by minimal diffs so concurrent edits merge. */
export default function TitleField({ title, editable }: { title: Y.Text; editable: boolean }) {
  const [value, setValue] = useState(() => title.toString());
  const input = useRef<HTMLInputElement>(null);
  // Caret to restore after React writes a remote change into the input (which moves it to the end).
  const pendingCaret = useRef<[number, number] | null>(null);

  useEffect(() => {
    const onChange = (event: Y.YTextEvent, tr: Y.Transaction) => {
      const el = input.current;
      // Several remote changes can arrive before React writes the first into the input: then the
      // caret to shift is the one still waiting to be applied, not the input's stale one.
      const waiting = pendingCaret.current;
      pendingCaret.current = null;
      if (tr.origin !== LOCAL_ORIGIN && el && document.activeElement === el) {
        // Shift the caret by what a collaborator inserted or deleted before it.
        const delta = event.delta as Parameters<typeof mapIndexThroughDelta>[1];
        const [start, end] = waiting ?? [el.selectionStart ?? 0, el.selectionEnd ?? 0];
        pendingCaret.current = [mapIndexThroughDelta(start, delta), mapIndexThroughDelta(end, delta)];
      }
      setValue(title.toString());
    };
    setValue(title.toString());
    title.observe(onChange);
    return () => title.unobserve(onChange);
  }, [title]);

  useLayoutEffect(() => {
    const caret = pendingCaret.current;
    pendingCaret.current = null;
    if (caret && input.current) input.current.setSelectionRange(caret[0], caret[1]);
  }, [value]);

  function onInput(next: string) {
    const splice = diffText(title.toString(), next);
    if (!splice) return;
    title.doc?.transact(() => {
      if (splice.deleteCount > 0) title.delete(splice.index, splice.deleteCount);
      if (splice.insert.length > 0) title.insert(splice.index, splice.insert);
    }, LOCAL_ORIGIN);
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
