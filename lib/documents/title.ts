/**
 * A document's title: a multi-value register, so that concurrent whole-title replacements are kept
 * as a conflict instead of merging into garbage (issue #16, item 6: "A→B" here and "A→C" there
 * used to become "BC"). CouchDB keeps conflicting revisions and Riak keeps siblings the same way.
 *
 * The Y.Map `titles` holds entries, keyed by ID: `{ value, supersedes, author, at }`, where
 * `supersedes` lists the IDs of the candidates its writer saw. The candidates are the entries no
 * other entry supersedes; a writer deletes the entries it supersedes, so the map holds only
 * candidates. More than one candidate is a conflict. The title shown is a deterministic choice
 * among them (the latest `at`, then the smallest ID), the same on every replica.
 *
 * Documents older than the register keep their title in the Y.Text `title`: while the register
 * holds no valid entry, that text is the one candidate (ID `legacy`), so the first replacement
 * supersedes it. Every replacement also writes its value into that text, for editors and plain
 * Yjs clients that only know the text (concurrent replacements still merge there, as before).
 *
 * Everything that reads or sets the title (exports, digests, restore, the title field) goes
 * through here. Entries come from any client with an edit link: malformed ones are ignored.
 */
import * as Y from 'yjs';
import { TITLE_TEXT } from './dataModel';
import { diffText } from '../client/textDiff';

/** The register's Y.Map in the document. */
export const TITLES_MAP = 'titles';

/** The ID of the candidate standing for the Y.Text of a document that has no register yet. */
export const LEGACY_TITLE_ID = 'legacy';

/** Longer values are truncated by writers and ignored by readers (a hostile client's). */
export const MAX_TITLE_CHARS = 1000;
/** A legitimate writer supersedes the candidates it saw; more than this is a hostile entry. */
const MAX_SUPERSEDES = 10_000;
const MAX_ID_CHARS = 64;
const MAX_AUTHOR_NAME = 80;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export interface TitleAuthor {
  name: string;
  color: string;
}

export interface TitleCandidate {
  id: string;
  value: string;
  /** IDs of the candidates its writer replaced. */
  supersedes: readonly string[];
  author: TitleAuthor | null;
  /** Writer's clock (ms since the epoch): only orders the choice of the shown candidate. */
  at: number;
}

export interface TitleState {
  /** The title shown (may be empty). */
  title: string;
  /** Every current candidate, the shown one first, then in the same order on every replica. */
  candidates: TitleCandidate[];
  /** More than one candidate: concurrent replacements someone should decide between. */
  conflict: boolean;
}

/** Who writes, and how the transaction is tagged. */
export interface TitleWrite {
  author?: TitleAuthor | null;
  origin?: unknown;
  /** The writer's clock; Date.now() by default. */
  now?: number;
}

export function titlesMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(TITLES_MAP);
}

/** The register as it is now: candidates, the shown title, whether they conflict. */
export function titleState(doc: Y.Doc): TitleState {
  const entries: TitleCandidate[] = [];
  for (const [id, raw] of titlesMap(doc).entries()) {
    const entry = asEntry(id, raw);
    if (entry) entries.push(entry);
  }
  const superseded = new Set<string>();
  for (const entry of entries) for (const id of entry.supersedes) superseded.add(id);
  const candidates = entries.filter((entry) => !superseded.has(entry.id)).sort(shownFirst);
  if (candidates.length === 0) {
    const legacy = doc.getText(TITLE_TEXT).toString();
    return { title: legacy, candidates: [{ id: LEGACY_TITLE_ID, value: legacy, supersedes: [], author: null, at: 0 }], conflict: false };
  }
  return { title: candidates[0]!.value, candidates, conflict: candidates.length > 1 };
}

/** The title as shown (may be empty). */
export function readTitle(doc: Y.Doc): string {
  return titleState(doc).title;
}

/**
 * Commits `value` as one replacement of the candidates `seen` (the IDs its writer saw when the
 * replacement began): deletes them and adds the new entry. A candidate that arrived meanwhile is
 * not superseded, so it stays beside the new one as a conflict. Returns the new entry's ID.
 */
export function replaceTitle(doc: Y.Doc, value: string, seen: readonly string[], write: TitleWrite = {}): string {
  const map = titlesMap(doc);
  const clean = value.slice(0, MAX_TITLE_CHARS);
  // Unique without randomness: no two changes share a client ID and clock.
  const id = `${doc.clientID.toString(36)}-${Y.getState(doc.store, doc.clientID).toString(36)}`;
  const supersedes = [...new Set(seen)].slice(0, MAX_SUPERSEDES);
  const author = write.author ? asAuthor(write.author) : null;
  doc.transact(() => {
    for (const old of supersedes) if (map.has(old)) map.delete(old);
    map.set(id, { value: clean, supersedes, author, at: write.now ?? Date.now() });
    mirrorIntoText(doc.getText(TITLE_TEXT), clean);
  }, write.origin ?? null);
  return id;
}

/**
 * Makes the title `value`, replacing every current candidate (restore, imports, tests). Changes
 * nothing when `value` is already the only candidate.
 */
export function setTitle(doc: Y.Doc, value: string, write: TitleWrite = {}): void {
  const { candidates } = titleState(doc);
  if (candidates.length === 1 && candidates[0]!.value === value.slice(0, MAX_TITLE_CHARS)) return;
  replaceTitle(doc, value, candidates.map((c) => c.id), write);
}

/**
 * Resolves a conflict with the candidate `id`: its value as a new entry superseding every current
 * candidate. Returns the value chosen, or null when `id` is no longer a candidate.
 */
export function pickTitle(doc: Y.Doc, id: string, write: TitleWrite = {}): string | null {
  const { candidates } = titleState(doc);
  const chosen = candidates.find((c) => c.id === id);
  if (!chosen) return null;
  replaceTitle(doc, chosen.value, candidates.map((c) => c.id), write);
  return chosen.value;
}

/**
 * Calls `listener` with the transaction's origin after every transaction that changed the
 * register or the legacy text. Returns the function that stops it.
 */
export function observeTitle(doc: Y.Doc, listener: (origin: unknown) => void): () => void {
  const map = titlesMap(doc);
  const text = doc.getText(TITLE_TEXT);
  const onTransaction = (tr: Y.Transaction) => {
    // Keyed by the changed types (its key type is narrower than the types it holds).
    const changed = tr.changed as Map<object, unknown>;
    if (changed.has(map) || changed.has(text)) listener(tr.origin);
  };
  doc.on('afterTransaction', onTransaction);
  return () => doc.off('afterTransaction', onTransaction);
}

/** Latest first; equal clocks by ID, so every replica shows the same candidate. */
function shownFirst(a: TitleCandidate, b: TitleCandidate): number {
  if (a.at !== b.at) return b.at - a.at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function mirrorIntoText(text: Y.Text, value: string): void {
  const splice = diffText(text.toString(), value);
  if (!splice) return;
  if (splice.deleteCount > 0) text.delete(splice.index, splice.deleteCount);
  if (splice.insert.length > 0) text.insert(splice.index, splice.insert);
}

/** A valid entry, or null: anything else a client wrote is ignored, never trusted. */
function asEntry(id: string, raw: unknown): TitleCandidate | null {
  if (id.length === 0 || id.length > MAX_ID_CHARS || id === LEGACY_TITLE_ID) return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Y.AbstractType) return null;
  const { value, supersedes, author, at } = raw as Record<string, unknown>;
  if (typeof value !== 'string' || value.length > MAX_TITLE_CHARS) return null;
  if (typeof at !== 'number' || !Number.isFinite(at)) return null;
  if (!Array.isArray(supersedes) || supersedes.length > MAX_SUPERSEDES || !supersedes.every((s) => typeof s === 'string')) return null;
  return { id, value, supersedes: supersedes as string[], author: asAuthor(author), at };
}

function asAuthor(value: unknown): TitleAuthor | null {
  if (typeof value !== 'object' || value === null) return null;
  const { name, color } = value as { name?: unknown; color?: unknown };
  if (typeof name !== 'string' || typeof color !== 'string' || !COLOR.test(color)) return null;
  return { name: name.slice(0, MAX_AUTHOR_NAME), color };
}
