/**
 * The decorations that show a version's changes in its read-only view: insertions tinted with
 * their author's colour (their name on hover), deleted text struck through where it was, in
 * its deleter's colour when the server recorded who deleted it, else in neutral grey.
 */
import { Decoration, DecorationSet } from 'prosemirror-view';
import type { Change, Deletion, Insertion, VersionComparison } from '../../../../lib/client/versionChanges';

/** Colour of insertions whose author the document does not name, and of deletions with no known deleter. */
export const NEUTRAL_COLOR = '#6e7781';

export function changeDecorations(comparison: VersionComparison): DecorationSet {
  const { doc, changes } = comparison;
  const size = doc.content.size;
  const decorations: Decoration[] = [];
  changes.forEach((change, index) => {
    if (change.kind === 'inserted') {
      if (change.to > size) return;
      const node = doc.nodeAt(change.from);
      // A leaf block (a horizontal rule) has no inline content to wrap.
      if (node && !node.isInline && change.to - change.from === node.nodeSize) decorations.push(Decoration.node(change.from, change.to, insertionAttrs(change)));
      else decorations.push(Decoration.inline(change.from, change.to, { nodeName: 'ins', ...insertionAttrs(change) }));
    } else if (change.at <= size) {
      decorations.push(Decoration.widget(change.at, () => deletionElement(change), { side: -1, key: `deleted-${index}`, ignoreSelection: true }));
    }
  });
  return DecorationSet.create(doc, decorations);
}

function insertionAttrs(change: Insertion): Record<string, string> {
  const name = change.author?.name ?? 'Unknown author';
  const color = change.author?.color ?? NEUTRAL_COLOR;
  return {
    class: change.author ? 'history-ins' : 'history-ins history-unknown',
    // Colours come from the authors map, which accepts only #rrggbb.
    style: `--author-color: ${color}`,
    title: `Added by ${name}`,
    'data-author-name': name,
    'data-author-color': color,
  };
}

function deletionElement(change: Deletion): HTMLElement {
  const del = document.createElement('del');
  del.className = change.block ? 'history-del history-del-block' : 'history-del';
  del.title = change.deleter ? `Deleted by ${change.deleter.name}` : 'Deleted since the previous version';
  if (change.deleter) {
    // Inline, over the stylesheet's grey; colours were checked to be #rrggbb (historyApi.ts).
    del.classList.add('history-del-known');
    del.style.color = change.deleter.color;
    del.style.textDecorationColor = change.deleter.color;
    del.dataset.deleterName = change.deleter.name;
    del.dataset.deleterColor = change.deleter.color;
  }
  const label = document.createElement('span');
  label.className = 'history-sr-only';
  label.textContent = change.deleter ? `Deleted by ${change.deleter.name}: ` : 'Deleted: ';
  del.append(label, change.text);
  return del;
}

export interface SummaryEntry {
  name: string;
  color: string;
  added: number;
  deleted: number;
}

/**
 * For the view's summary: how many characters each person added and deleted (in order of their
 * first change), and how many were deleted by no one known.
 */
export function changeSummary(changes: Change[]): { authors: SummaryEntry[]; deleted: number } {
  const byPerson = new Map<string, SummaryEntry>();
  const entry = (name: string, color: string): SummaryEntry => {
    const key = `${name}\0${color}`;
    const found = byPerson.get(key) ?? { name, color, added: 0, deleted: 0 };
    byPerson.set(key, found);
    return found;
  };
  let deleted = 0;
  for (const change of changes) {
    if (change.kind === 'inserted') entry(change.author?.name ?? 'Unknown author', change.author?.color ?? NEUTRAL_COLOR).added += change.to - change.from;
    else if (change.deleter) entry(change.deleter.name, change.deleter.color).deleted += change.text.length;
    else deleted += change.text.length;
  }
  return { authors: [...byPerson.values()], deleted };
}
