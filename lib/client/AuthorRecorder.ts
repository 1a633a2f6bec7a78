/**
 * Records who this editor is in the document's `authors` map (lib/documents/authors.ts), so any
 * replica can name the author of the text this replica writes (issue #16, item 5). Every page
 * load is a new Y.Doc and so a new Yjs client ID (y-indexeddb restores the content, not the ID),
 * and Yjs itself picks a new ID when it sees another client using ours: the entry is written for
 * the client ID in use, right after its first edit — in its own transaction, which Yjs runs
 * straight after the edit's, so both reach the relay and IndexedDB together — and again when the
 * person changes their name or colour. Only editors have one: a view link never writes.
 */
import type * as Y from 'yjs';
import { recordAuthor, type Author } from '../documents/authors';

/** Origin of the entry's transaction: stored and synced like an edit, but not one. */
export const AUTHOR_RECORD_ORIGIN = { kind: 'author-record' } as const;

export class AuthorRecorder {
  /** The client ID whose entry this page wrote; null until the first edit. */
  private recordedFor: number | null = null;

  constructor(
    private readonly doc: Y.Doc,
    private author: Author,
    /** Whether a local transaction of this origin is the person's own edit. */
    private readonly isUserEdit: (origin: unknown) => boolean,
  ) {
    doc.on('update', this.onUpdate);
  }

  /** The person changed their name or colour: their entry follows once they have edited. */
  setAuthor(author: Author): void {
    this.author = author;
    if (this.recordedFor === this.doc.clientID) this.record();
  }

  destroy(): void {
    this.doc.off('update', this.onUpdate);
  }

  private readonly onUpdate = (_update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
    if (!transaction.local || origin === AUTHOR_RECORD_ORIGIN || !this.isUserEdit(origin)) return;
    if (this.recordedFor !== this.doc.clientID) this.record();
  };

  private record(): void {
    this.recordedFor = this.doc.clientID;
    const { name, color } = this.author;
    this.doc.transact(() => recordAuthor(this.doc, this.doc.clientID, { name, color }), AUTHOR_RECORD_ORIGIN);
  }
}
