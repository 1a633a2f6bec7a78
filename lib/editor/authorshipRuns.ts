/**
 * Who wrote which characters, read from the Yjs item IDs of the body (issue #16, item 5): the
 * pure part of the authorship view and of "See new changes". Every character in a Y.XmlText
 * belongs to an item whose ID names the client that inserted it (and its clock), so walking the
 * body's Yjs tree while counting ProseMirror positions gives, for every run of text, its
 * ProseMirror range and its author's client ID — with garbage collection left on, since only
 * live (undeleted) items are read.
 */
import * as Y from 'yjs';
import type { Schema } from 'prosemirror-model';
import { authorOf, type Author } from '../documents/authors';

/** One item's live text: ProseMirror range [from, to), its client and the clock of `from`. */
export interface TextSegment {
  from: number;
  to: number;
  client: number;
  clock: number;
}

/** A range of text written by one client. */
export interface ClientRun {
  from: number;
  to: number;
  client: number;
}

/** A per-client clock: the next clock each client will use (Yjs state vector). */
export type StateVector = ReadonlyMap<number, number>;

/** What counts as new: clocks in [since, until) of every client except `exclude`. */
export interface NewChangesRange {
  since: StateVector;
  until: StateVector;
  exclude: ReadonlySet<number>;
}

export interface BodyText {
  segments: TextSegment[];
  /** The ProseMirror doc's content size this walk implies; differs when Yjs and ProseMirror do. */
  size: number;
}

/**
 * Walks `fragment` as y-prosemirror maps it onto a ProseMirror doc of `schema`: an element opens
 * and closes (+1 each) unless its node type is a leaf (+1), text counts by length, formatting
 * items (marks) count 0, deleted items are skipped; elements the schema lacks are skipped, as
 * y-prosemirror drops them (the size check then shows the mismatch).
 */
export function bodyText(fragment: Y.XmlFragment, schema: Schema): BodyText {
  const segments: TextSegment[] = [];
  const size = walkChildren(fragment, 0, schema, segments);
  return { segments, size };
}

function walkChildren(parent: Y.XmlFragment | Y.XmlElement, start: number, schema: Schema, out: TextSegment[]): number {
  let pos = start;
  for (let item = parent._start; item !== null; item = item.right) {
    if (item.deleted || !(item.content instanceof Y.ContentType)) continue;
    const child = item.content.type;
    if (child instanceof Y.XmlText) {
      pos = walkText(child, pos, out);
    } else if (child instanceof Y.XmlElement) {
      const nodeType = schema.nodes[child.nodeName];
      if (!nodeType) continue;
      pos = nodeType.isLeaf ? pos + 1 : walkChildren(child, pos + 1, schema, out) + 1;
    }
  }
  return pos;
}

function walkText(text: Y.XmlText, start: number, out: TextSegment[]): number {
  let pos = start;
  for (let item = text._start; item !== null; item = item.right) {
    if (item.deleted || !item.countable) continue;
    if (item.content instanceof Y.ContentString) {
      out.push({ from: pos, to: pos + item.length, client: item.id.client, clock: item.id.clock });
    }
    pos += item.length;
  }
  return pos;
}

/** Adjacent segments of one client joined into runs: the authorship view's colouring. */
export function authorRuns(segments: readonly TextSegment[]): ClientRun[] {
  return joinAdjacent(segments.map(({ from, to, client }) => ({ from, to, client })));
}

/**
 * The text of other clients written after `range.since` and up to `range.until`, as runs. An
 * item covers clocks [clock, clock + length), so an item that straddles a bound is cut there.
 */
export function newRuns(segments: readonly TextSegment[], range: NewChangesRange): ClientRun[] {
  const runs: ClientRun[] = [];
  for (const { from, to, client, clock } of segments) {
    if (range.exclude.has(client)) continue;
    const first = Math.max(clock, range.since.get(client) ?? 0);
    const end = Math.min(clock + (to - from), range.until.get(client) ?? 0);
    if (first < end) runs.push({ from: from + (first - clock), to: from + (end - clock), client });
  }
  return joinAdjacent(runs);
}

function joinAdjacent(runs: readonly ClientRun[]): ClientRun[] {
  const joined: ClientRun[] = [];
  for (const run of runs) {
    const last = joined[joined.length - 1];
    if (last && last.client === run.client && last.to === run.from) last.to = run.to;
    else joined.push({ ...run });
  }
  return joined;
}

/** Componentwise maximum of two state vectors. */
export function maxStateVector(a: StateVector, b: StateVector): Map<number, number> {
  const result = new Map(a);
  for (const [client, clock] of b) result.set(client, Math.max(clock, result.get(client) ?? 0));
  return result;
}

/** Shown for text whose client recorded no author (an older replica, or a malformed entry). */
export const UNKNOWN_AUTHOR: Author = { name: 'Unknown author', color: '#8c959f' };

/** The author to show for a client's text. */
export function displayAuthor(doc: Y.Doc, client: number): Author & { known: boolean } {
  const author = authorOf(doc, client);
  return author ? { ...author, known: true } : { ...UNKNOWN_AUTHOR, known: false };
}
