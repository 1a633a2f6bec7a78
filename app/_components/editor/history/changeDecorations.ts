/**
 * The decorations that show a version's changes in its read-only view: insertions tinted with
 * their author's colour (their name on hover), deleted text struck through where it was, in
 * neutral grey, since Yjs does not record who deleted what.
 */
import { Decoration, DecorationSet } from 'prosemirror-view';
import type { Change, Deletion, Insertion, VersionComparison } from '../../../../lib/client/versionChanges';

/** Colour of insertions whose author the document does not name, and of every deletion. */
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
  del.title = 'Deleted since the previous version';
  const label = document.createElement('span');
  label.className = 'history-sr-only';
  label.textContent = 'Deleted: ';
  del.append(label, change.text);
  return del;
}

/** For the view's summary: how many characters each author added, and how many were deleted. */
export function changeSummary(changes: Change[]): { authors: { name: string; color: string; added: number }[]; deleted: number } {
  const byName = new Map<string, { name: string; color: string; added: number }>();
  let deleted = 0;
  for (const change of changes) {
    if (change.kind === 'deleted') {
      deleted += change.text.length;
      continue;
    }
    const name = change.author?.name ?? 'Unknown author';
    const entry = byName.get(`${name}\0${change.author?.color}`) ?? { name, color: change.author?.color ?? NEUTRAL_COLOR, added: 0 };
    entry.added += change.to - change.from;
    byName.set(`${name}\0${change.author?.color}`, entry);
  }
  return { authors: [...byName.values()], deleted };
}
