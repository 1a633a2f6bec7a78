/**
 * Who wrote what: the Y.Map `authors` maps a Yjs client ID (as a decimal string) to the name and
 * colour of the person whose replica used it. Every replica writes its own entry once, with
 * its first change (in the same tick), so any replica — a browser offline for days, another region — can tell who
 * wrote any character from the character's Yjs ID alone, with garbage collection left on.
 *
 * Names are self-declared, as in presence: this attributes, it does not authenticate.
 */
import * as Y from 'yjs';

export const AUTHORS_MAP = 'authors';

export interface Author {
  name: string;
  color: string;
}

const MAX_NAME = 80;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export function authorsMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(AUTHORS_MAP);
}

/** The author recorded for `clientId`, or null when none (or a malformed entry) is recorded. */
export function authorOf(doc: Y.Doc, clientId: number): Author | null {
  return asAuthor(authorsMap(doc).get(String(clientId)));
}

/** Records `author` for `clientId` unless the same is already recorded (no change then). */
export function recordAuthor(doc: Y.Doc, clientId: number, author: Author): void {
  const current = authorOf(doc, clientId);
  if (current && current.name === author.name && current.color === author.color) return;
  authorsMap(doc).set(String(clientId), { name: author.name.slice(0, MAX_NAME), color: author.color });
}

/** Every recorded author, by client ID. */
export function allAuthors(doc: Y.Doc): Map<number, Author> {
  const result = new Map<number, Author>();
  for (const [key, value] of authorsMap(doc).entries()) {
    const author = asAuthor(value);
    const clientId = Number(key);
    if (author && Number.isSafeInteger(clientId)) result.set(clientId, author);
  }
  return result;
}

function asAuthor(value: unknown): Author | null {
  if (typeof value !== 'object' || value === null) return null;
  const { name, color } = value as { name?: unknown; color?: unknown };
  if (typeof name !== 'string' || typeof color !== 'string' || !COLOR.test(color)) return null;
  return { name: name.slice(0, MAX_NAME), color };
}
