/**
 * The authorship view (issue #16, item 5): colours the text by who wrote it, the author's name on
 * hover, and highlights "new changes" (others' text since this browser last looked) in their
 * author's colour. Decorations come from the Yjs item IDs of the body (authorshipRuns.ts), so
 * they are computed only while something is shown:
 * - a change that came from Yjs (remote, undo) has Yjs already up to date: recomputed at once;
 * - a local edit reaches Yjs only in y-prosemirror's view update: the decorations are mapped
 *   through it and recomputed after a short pause in typing.
 * A computation whose size differs from the ProseMirror doc (the two are not in step) is
 * dropped and retried rather than shown at wrong positions.
 */
import { Plugin, PluginKey, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view';
import type { Node as PmNode } from 'prosemirror-model';
import { ySyncPluginKey } from 'y-prosemirror';
import type * as Y from 'yjs';
import { authorsMap } from '../documents/authors';
import { authorRuns, bodyText, displayAuthor, newRuns, type NewChangesRange } from './authorshipRuns';

/** Pause in local typing before the decorations are read from Yjs again. */
const RECOMPUTE_DELAY_MS = 250;
/** Attempts at a computation that keeps finding Yjs and ProseMirror out of step. */
const MAX_RETRIES = 3;

export type AuthorshipKind = 'author' | 'new';

/** What each decoration carries (its spec), for the view and for tests. */
export interface AuthorshipSpec {
  kind: AuthorshipKind;
  name: string;
  color: string;
}

export interface AuthorshipState {
  showAuthors: boolean;
  newChanges: NewChangesRange | null;
  decorations: DecorationSet;
  /** The doc changed (or the request did) since the decorations were read from Yjs. */
  stale: boolean;
}

type AuthorshipMeta =
  | { type: 'show-authors'; on: boolean }
  | { type: 'new-changes'; range: NewChangesRange | null }
  | { type: 'computed'; decorations: DecorationSet };

export const authorshipKey = new PluginKey<AuthorshipState>('concord-authorship');

/** Whether the authorship colours are on. */
export function authorsShown(state: EditorState): boolean {
  return authorshipKey.getState(state)?.showAuthors ?? false;
}

/** Turns the authorship colours on or off. */
export function showAuthors(view: EditorView, on: boolean): void {
  view.dispatch(withMeta(view.state.tr, { type: 'show-authors', on }));
}

/** Highlights the new changes of `range` (null: none). */
export function showNewChanges(view: EditorView, range: NewChangesRange | null): void {
  view.dispatch(withMeta(view.state.tr, { type: 'new-changes', range }));
}

/** Every authorship decoration now shown, in document order. */
export function shownRuns(state: EditorState): Array<AuthorshipSpec & { from: number; to: number }> {
  const set = authorshipKey.getState(state)?.decorations ?? DecorationSet.empty;
  return set
    .find()
    .map((d) => ({ ...(d.spec as AuthorshipSpec), from: d.from, to: d.to }))
    .sort((a, b) => a.from - b.from || a.kind.localeCompare(b.kind));
}

/** shownRuns with each run's text, read from the editor state (the test and automation hook). */
export function shownRunsWithText(state: EditorState): Array<AuthorshipSpec & { text: string }> {
  return shownRuns(state).map(({ from, to, ...spec }) => ({ ...spec, text: state.doc.textBetween(from, to, '\n') }));
}

/** No 'addToHistory' meta: on y-prosemirror it would cut the undo manager's capture of typing. */
function withMeta(tr: Transaction, meta: AuthorshipMeta): Transaction {
  return tr.setMeta(authorshipKey, meta);
}

function active(state: AuthorshipState): boolean {
  return state.showAuthors || state.newChanges !== null;
}

/**
 * The decorations for `pmDoc` read from `fragment`, or null when the Yjs tree does not match the
 * ProseMirror doc (y-prosemirror has not brought one to the other yet).
 */
export function computeDecorations(fragment: Y.XmlFragment, pmDoc: PmNode, state: Pick<AuthorshipState, 'showAuthors' | 'newChanges'>): DecorationSet | null {
  const body = bodyText(fragment, pmDoc.type.schema);
  if (body.size !== pmDoc.content.size) return null;
  const doc = fragment.doc!;
  const decorations: Decoration[] = [];
  if (state.showAuthors) {
    for (const run of authorRuns(body.segments)) {
      const author = displayAuthor(doc, run.client);
      const spec: AuthorshipSpec = { kind: 'author', name: author.name, color: author.color };
      decorations.push(
        Decoration.inline(run.from, run.to, { class: `author-run${author.known ? '' : ' author-unknown'}`, style: `background-color: ${author.color}2e`, title: author.name }, spec),
      );
    }
  }
  if (state.newChanges) {
    for (const run of newRuns(body.segments, state.newChanges)) {
      const author = displayAuthor(doc, run.client);
      const spec: AuthorshipSpec = { kind: 'new', name: author.name, color: author.color };
      decorations.push(
        Decoration.inline(
          run.from,
          run.to,
          { class: 'new-change', style: `background-color: ${author.color}47; box-shadow: inset 0 -2px 0 ${author.color}`, title: `New since you last looked: ${author.name}` },
          spec,
        ),
      );
    }
  }
  return DecorationSet.create(pmDoc, decorations);
}

/** The plugin, reading authorship from `fragment` (the body the editor is bound to). */
export function authorshipPlugin(fragment: Y.XmlFragment): Plugin<AuthorshipState> {
  return new Plugin<AuthorshipState>({
    key: authorshipKey,
    state: {
      init: () => ({ showAuthors: false, newChanges: null, decorations: DecorationSet.empty, stale: false }),
      apply(tr, prev) {
        const meta = tr.getMeta(authorshipKey) as AuthorshipMeta | undefined;
        if (meta?.type === 'computed') return { ...prev, decorations: meta.decorations, stale: false };
        const next: AuthorshipState = { ...prev };
        if (meta?.type === 'show-authors') next.showAuthors = meta.on;
        if (meta?.type === 'new-changes') next.newChanges = meta.range;
        if (!active(next)) return { ...next, decorations: DecorationSet.empty, stale: false };
        if (!meta && !tr.docChanged) return prev;
        const fromYjs = (tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin === true;
        // A local edit is not in Yjs yet: compute after y-prosemirror's view update wrote it.
        const computed = tr.docChanged && !fromYjs ? null : computeDecorations(fragment, tr.doc, next);
        if (computed) return { ...next, decorations: computed, stale: false };
        return { ...next, decorations: prev.decorations.map(tr.mapping, tr.doc), stale: true };
      },
    },
    props: {
      decorations: (state) => authorshipKey.getState(state)?.decorations,
    },
    view: (view) => new AuthorshipView(view, fragment),
  });
}

/** Recomputes stale decorations after a pause, and when recorded authors change. */
class AuthorshipView {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retries = 0;

  constructor(
    private readonly view: EditorView,
    private readonly fragment: Y.XmlFragment,
  ) {
    authorsMap(fragment.doc!).observe(this.onAuthorsChanged);
  }

  update(): void {
    if (authorshipKey.getState(this.view.state)?.stale) this.schedule(RECOMPUTE_DELAY_MS);
  }

  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    authorsMap(this.fragment.doc!).unobserve(this.onAuthorsChanged);
  }

  /** A name or colour changed, or a new author's entry arrived after their text. */
  private readonly onAuthorsChanged = () => {
    const state = authorshipKey.getState(this.view.state);
    if (state && active(state)) this.schedule(0);
  };

  private schedule(delay: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(this.recompute, delay);
  }

  private readonly recompute = () => {
    this.timer = null;
    const state = authorshipKey.getState(this.view.state);
    if (!state || !active(state)) return;
    const decorations = computeDecorations(this.fragment, this.view.state.doc, state);
    if (!decorations) {
      if (++this.retries <= MAX_RETRIES) this.schedule(RECOMPUTE_DELAY_MS);
      return;
    }
    this.retries = 0;
    this.view.dispatch(withMeta(this.view.state.tr, { type: 'computed', decorations }));
  };
}
