/**
 * What changed between two versions of a document (issue #16, item 3), for the history panel's
 * read-only view: the version's content as a ProseMirror document, plus where text was inserted
 * (and by whom) and where text was deleted, in that document's positions.
 *
 * Both versions come as Yjs updates of a garbage-collected document (as the server stores them).
 * They are applied, oldest first, to one document that keeps deleted content (gc: false), with
 * a snapshot taken in between: an item the previous snapshot cannot see is an insertion, an
 * item it sees but the version deleted is a deletion. Text inserted and deleted between the two
 * versions was collected before the version was stored and shows as neither.
 *
 * Yjs records who *inserted* each item (its client ID → lib/documents/authors.ts), not who
 * deleted it. The server records that per connection (the version detail's `deletions`); given
 * as a DeleterLookup, deleted runs are split per deleter and carry them. Without it, or for
 * characters it does not cover, a deletion's deleter is null.
 */
import * as Y from 'yjs';
import type { Node as PMNode } from 'prosemirror-model';
import { yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror';
import { authorOf, type Author } from '../documents/authors';
import { rangesContain, type DeletedRanges } from '../history/deleteSets';
import { BODY_FRAGMENT } from '../documents/dataModel';
import { readTitle } from '../documents/title';
import { schema } from '../editor/schema';

/** Text the version has that the previous version did not, [from, to) in the version's document. */
export interface Insertion {
  kind: 'inserted';
  from: number;
  to: number;
  text: string;
  /** The Yjs client that inserted it. */
  clientId: number;
  /** Null when that client recorded no author (a replica older than the authors map). */
  author: Author | null;
}

/** Text the previous version had and this one does not, shown at `at` in the version's document. */
export interface Deletion {
  kind: 'deleted';
  at: number;
  text: string;
  /** The deleted text was a whole block (a paragraph, a list item…), not text within one. */
  block: boolean;
  /** Who deleted it, when the server recorded that; null otherwise. */
  deleter: Author | null;
}

/** Who deleted the Yjs item `client`:`clock`, or null when not known. */
export type DeleterLookup = (client: number, clock: number) => Author | null;

/** What one person's connection deleted between the previous version and this one. */
export interface AuthorDeletions {
  author: Author;
  ranges: DeletedRanges;
}

/** A DeleterLookup over the server's per-author deleted ranges (the first that holds an item wins). */
export function deletersFrom(deletions: readonly AuthorDeletions[]): DeleterLookup {
  return (client, clock) => deletions.find((d) => rangesContain(d.ranges, client, clock))?.author ?? null;
}

const NO_DELETERS: DeleterLookup = () => null;

export type Change = Insertion | Deletion;

export interface VersionComparison {
  /** The version's content. */
  doc: PMNode;
  /** In document order; insertions and deletions are never empty. */
  changes: Change[];
  /**
   * The changes could not be placed (empty then): the stored content holds something this
   * schema cannot build, which y-prosemirror leaves out of the document shown.
   */
  unplaced: boolean;
  title: string;
  /** The previous version's title, when it differs from this one's. */
  previousTitle: string | null;
}

/** Shown in place of a deleted leaf node, which has no text of its own. */
const LEAF_LABELS: Record<string, string> = { hard_break: '↵', horizontal_rule: '―', image: '[image]' };

/**
 * Compares `version` (a Yjs update) with `previous` (the version before it, or null for the
 * first version: then everything in it is an insertion). `deleters` names who deleted what.
 */
export function compareVersions(previous: Uint8Array | null, version: Uint8Array, deleters: DeleterLookup = NO_DELETERS): VersionComparison {
  const doc = new Y.Doc({ gc: false });
  if (previous) Y.applyUpdate(doc, previous);
  const before = Y.snapshot(doc);
  const previousTitle = readTitle(doc);
  Y.applyUpdate(doc, version);
  const now = Y.snapshot(doc);
  const fragment = doc.getXmlFragment(BODY_FRAGMENT);
  const walker = new ChangeWalker(doc, before, deleters);
  walker.children(fragment, 0);
  const title = readTitle(doc);
  // Built last: y-prosemirror deletes what the schema rejects, here in this scratch copy only.
  const pmDoc = yXmlFragmentToProseMirrorRootNode(fragment, schema);
  const unplaced = !walker.changes.every((change) => change.kind === 'deleted' || placed(pmDoc, change));
  return {
    doc: pmDoc,
    changes: unplaced ? [] : walker.changes,
    unplaced,
    title,
    previousTitle: previous && previousTitle !== title ? previousTitle : null,
  };
}

/**
 * Walks the body as y-prosemirror maps it to ProseMirror (an element is a node: a leaf takes one
 * position, any other node an opening and a closing one around its content; an XmlText's
 * visible characters one position each), keeping the position in the version's document.
 */
class ChangeWalker {
  readonly changes: Change[] = [];

  constructor(
    private readonly doc: Y.Doc,
    private readonly before: Y.Snapshot,
    private readonly deleters: DeleterLookup,
  ) {}

  /** Walks the children of `parent`, whose content starts at `pos`; returns the position after. */
  children(parent: Y.XmlFragment | Y.XmlElement, pos: number): number {
    for (let item = parent._start; item !== null; item = item.right) {
      if (!(item.content instanceof Y.ContentType)) continue;
      const visibleNow = !item.deleted;
      const visibleBefore = isVisible(item, this.before);
      if (!visibleNow && !visibleBefore) continue;
      const type = item.content.type;
      if (type instanceof Y.XmlText) pos = this.text(type, pos);
      else if (type instanceof Y.XmlElement) pos = visibleNow ? this.element(type, item, visibleBefore, pos) : this.removedElement(type, item, pos);
    }
    return pos;
  }

  private element(element: Y.XmlElement, item: Y.Item, visibleBefore: boolean, pos: number): number {
    const nodeType = schema.nodes[element.nodeName];
    // y-prosemirror drops what the schema does not know: it takes no position.
    if (!nodeType) return pos;
    if (nodeType.isLeaf) {
      if (!visibleBefore) this.insertion(pos, pos + 1, LEAF_LABELS[element.nodeName] ?? '', item.id.client);
      return pos + 1;
    }
    return this.children(element, pos + 1) + 1;
  }

  /** A block or inline node the version deleted: its former text, shown where it was. */
  private removedElement(element: Y.XmlElement, item: Y.Item, pos: number): number {
    const nodeType = schema.nodes[element.nodeName];
    if (!nodeType) return pos;
    const text = nodeType.isLeaf ? (LEAF_LABELS[element.nodeName] ?? '') : textBefore(element, this.before);
    // Whoever deleted the node deleted its content with it: the node's own item names them.
    this.deletion(pos, text, nodeType.isBlock, this.deleters(item.id.client, item.id.clock));
    return pos;
  }

  /**
   * Character by character (each has its own Yjs ID, client:clock+offset), since one stored
   * item can hold characters added, kept and deleted, and deleted by different people.
   * Formatting items take no position; deleted content that was collected has no text.
   */
  private text(text: Y.XmlText, pos: number): number {
    for (let item = text._start; item !== null; item = item.right) {
      if (!(item.content instanceof Y.ContentString)) continue;
      const str = item.content.str;
      const { client, clock } = item.id;
      let start = 0;
      while (start < str.length) {
        const kind = this.charKind(item, start);
        const deleter = kind === 'deleted' ? this.deleters(client, clock + start) : null;
        let end = start + 1;
        while (end < str.length && this.charKind(item, end) === kind && (kind !== 'deleted' || sameAuthor(this.deleters(client, clock + end), deleter))) end++;
        const run = str.slice(start, end);
        if (kind === 'deleted') this.deletion(pos, run, false, deleter);
        else if (kind === 'inserted') this.insertion(pos, pos + run.length, run, client);
        if (kind !== 'deleted' && kind !== 'gone') pos += run.length;
        start = end;
      }
    }
    return pos;
  }

  /** The `offset`th character of `item`: new in this version, deleted by it, in both, or in neither. */
  private charKind(item: Y.Item, offset: number): 'inserted' | 'deleted' | 'kept' | 'gone' {
    const id = Y.createID(item.id.client, item.id.clock + offset);
    const clockBefore = this.before.sv.get(id.client);
    const visibleBefore = clockBefore !== undefined && clockBefore > id.clock && !Y.isDeleted(this.before.ds, id);
    if (item.deleted) return visibleBefore ? 'deleted' : 'gone';
    return visibleBefore ? 'kept' : 'inserted';
  }

  private insertion(from: number, to: number, text: string, clientId: number): void {
    const last = this.changes.at(-1);
    if (last?.kind === 'inserted' && last.to === from && last.clientId === clientId) {
      last.to = to;
      last.text += text;
      return;
    }
    this.changes.push({ kind: 'inserted', from, to, text, clientId, author: authorOf(this.doc, clientId) });
  }

  private deletion(at: number, text: string, block: boolean, deleter: Author | null): void {
    if (text.length === 0 && !block) return;
    const last = this.changes.at(-1);
    if (last?.kind === 'deleted' && last.at === at && !last.block && !block && sameAuthor(last.deleter, deleter)) {
      last.text += text;
      return;
    }
    this.changes.push({ kind: 'deleted', at, text, block, deleter });
  }
}

/** The insertion covers exactly its text (or its leaf node) in the built document. */
function placed(doc: PMNode, change: Insertion): boolean {
  if (change.to > doc.content.size) return false;
  const node = doc.nodeAt(change.from);
  if (node?.isLeaf && !node.isText) return change.to - change.from === node.nodeSize;
  return doc.textBetween(change.from, change.to) === change.text;
}

interface DeltaOp {
  insert: unknown;
}

function sameAuthor(a: Author | null, b: Author | null): boolean {
  return a === b || (a !== null && b !== null && a.name === b.name && a.color === b.color);
}

/** Yjs's own visibility rule (not exported): made before the snapshot and not deleted in it. */
function isVisible(item: Y.Item, snapshot: Y.Snapshot): boolean {
  const clock = snapshot.sv.get(item.id.client);
  return clock !== undefined && clock > item.id.clock && !Y.isDeleted(snapshot.ds, item.id);
}

/** The text `element` showed in `snapshot`, its blocks on lines of their own. */
function textBefore(element: Y.XmlElement, snapshot: Y.Snapshot): string {
  const parts: string[] = [];
  for (let item = element._start; item !== null; item = item.right) {
    if (!(item.content instanceof Y.ContentType) || !isVisible(item, snapshot)) continue;
    const type = item.content.type;
    if (type instanceof Y.XmlText) {
      const ops = type.toDelta(snapshot) as DeltaOp[];
      parts.push(ops.map((op) => (typeof op.insert === 'string' ? op.insert : '')).join(''));
    } else if (type instanceof Y.XmlElement) {
      const nodeType = schema.nodes[type.nodeName];
      if (!nodeType) continue;
      const inner = nodeType.isLeaf ? (LEAF_LABELS[type.nodeName] ?? '') : textBefore(type, snapshot);
      parts.push(nodeType.isBlock && parts.length > 0 ? `\n${inner}` : inner);
    }
  }
  return parts.join('');
}
