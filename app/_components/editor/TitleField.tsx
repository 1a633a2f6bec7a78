'use client';

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type * as Y from 'yjs';
import { diffText, mapIndexThroughDelta, type TextDelta, type TextSplice } from '../../../lib/client/textDiff';
import { UNTITLED } from '../../../lib/documents/dataModel';
import { observeTitle, pickTitle, replaceTitle, titleState, type TitleAuthor, type TitleState } from '../../../lib/documents/title';
import TitleConflict from './TitleConflict';

export const MAX_TITLE_LENGTH = 200;

/** A replacement is committed after this long without typing, and at once on blur or Enter. */
export const TITLE_COMMIT_IDLE_MS = 700;

/** Marks our own title transactions, so the observer does not move our caret for them. */
const LOCAL_ORIGIN = Symbol('concord-title-input');

/** A replacement being typed: what it replaces (the candidates shown when it began) and its text. */
interface Draft {
  value: string;
  /** The title shown when the draft began: typing it back commits nothing. */
  start: string;
  /** The candidates the person saw: the replacement supersedes these, and only these. */
  seen: string[];
}

interface TitleFieldProps {
  doc: Y.Doc;
  editable: boolean;
  author: TitleAuthor;
  /** After this person picked a candidate (to record it in history). */
  onPicked?(value: string): void;
}

/**
 * The shared title (lib/documents/title.ts): an input showing the chosen candidate. What the
 * person types is one whole-title replacement, committed when they stop typing, leave the field
 * or press Enter; replacements made at the same time elsewhere stay beside it as a conflict.
 */
export default function TitleField({ doc, editable, author, onPicked }: TitleFieldProps) {
  const [state, setState] = useState<TitleState>(() => titleState(doc));
  const [draft, setDraftState] = useState<Draft | null>(null);
  // Read by timers and handlers, which may run before React re-renders.
  const draftRef = useRef<Draft | null>(null);
  const shownRef = useRef(state.title);
  const authorRef = useRef(author);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const input = useRef<HTMLInputElement>(null);
  // Caret to restore after React writes a remote change into the input (which moves it to the end).
  const pendingCaret = useRef<[number, number] | null>(null);

  useEffect(() => {
    authorRef.current = author;
  }, [author]);

  const setDraft = useCallback((next: Draft | null) => {
    draftRef.current = next;
    setDraftState(next);
  }, []);

  const commit = useCallback(() => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    const pending = draftRef.current;
    if (!pending) return;
    setDraft(null);
    if (pending.value === pending.start || doc.isDestroyed) return;
    replaceTitle(doc, pending.value, pending.seen, { author: authorRef.current, origin: LOCAL_ORIGIN });
  }, [doc, setDraft]);

  useEffect(() => {
    const refresh = (origin: unknown) => {
      const next = titleState(doc);
      const el = input.current;
      const before = shownRef.current;
      shownRef.current = next.title;
      // The input shows the register (not a draft) and someone else changed it: keep the caret
      // on the same characters. Several changes can arrive before React writes the first: the
      // caret to move is then the one still waiting.
      if (origin !== LOCAL_ORIGIN && !draftRef.current && el && document.activeElement === el) {
        const splice = diffText(before, next.title);
        if (splice) {
          const delta = spliceDelta(splice);
          const [start, end] = pendingCaret.current ?? [el.selectionStart ?? 0, el.selectionEnd ?? 0];
          pendingCaret.current = [mapIndexThroughDelta(start, delta), mapIndexThroughDelta(end, delta)];
        }
      }
      setState(next);
    };
    refresh(LOCAL_ORIGIN);
    return observeTitle(doc, refresh);
  }, [doc]);

  // Leaving with a replacement typed (another page, another document): it is still the person's.
  // A layout effect, so that its cleanup runs before the session's (a passive effect of a parent,
  // which destroys the document).
  useLayoutEffect(() => {
    window.addEventListener('pagehide', commit);
    return () => {
      window.removeEventListener('pagehide', commit);
      commit();
    };
  }, [commit]);

  const value = draft?.value ?? state.title;
  useLayoutEffect(() => {
    const caret = pendingCaret.current;
    pendingCaret.current = null;
    if (caret && input.current) input.current.setSelectionRange(caret[0], caret[1]);
  }, [value]);

  function onInput(next: string) {
    const current = titleState(doc);
    const pending = draftRef.current ?? { value: next, start: current.title, seen: current.candidates.map((c) => c.id) };
    setDraft({ ...pending, value: next });
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = setTimeout(commit, TITLE_COMMIT_IDLE_MS);
  }

  function pick(id: string) {
    // A replacement still being typed was made before the pick: the pick decides over it too.
    commit();
    const chosen = pickTitle(doc, id, { author: authorRef.current, origin: LOCAL_ORIGIN });
    if (chosen !== null) onPicked?.(chosen);
  }

  return (
    <>
      <input
        ref={input}
        className="title-input"
        data-testid="title"
        aria-label="Document title"
        placeholder={UNTITLED}
        value={value}
        maxLength={MAX_TITLE_LENGTH}
        readOnly={!editable}
        data-conflict={state.conflict ? 'true' : undefined}
        onChange={(e) => editable && onInput(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            // Not typed on into the body: the key only moves from the title to the text.
            e.preventDefault();
            commit();
            (document.querySelector('.ProseMirror') as HTMLElement | null)?.focus();
          } else if (e.key === 'Escape' && draftRef.current) {
            // Takes the typed replacement back: the field shows the register again.
            if (timer.current !== null) clearTimeout(timer.current);
            timer.current = null;
            setDraft(null);
          }
        }}
      />
      <span role="status" style={VISUALLY_HIDDEN}>
        {state.conflict ? `${state.candidates.length} titles were set at once; the title shows one of them.` : ''}
      </span>
      <TitleConflict state={state} canPick={editable} onPick={pick} />
    </>
  );
}

const VISUALLY_HIDDEN = {
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
} as const;

/** The splice as a text delta, for mapping a caret through it. */
function spliceDelta(splice: TextSplice): TextDelta {
  const delta: { retain?: number; insert?: string; delete?: number }[] = [];
  if (splice.index > 0) delta.push({ retain: splice.index });
  if (splice.deleteCount > 0) delta.push({ delete: splice.deleteCount });
  if (splice.insert.length > 0) delta.push({ insert: splice.insert });
  return delta;
}
