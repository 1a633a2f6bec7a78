/**
 * The shared data model of a Concord document: any Yjs client that follows it is a full client
 * (see README, "Data model").
 */

/** The rich-text body: a Y.XmlFragment holding ProseMirror nodes (y-prosemirror's default name). */
export const BODY_FRAGMENT = 'prosemirror';

/** The document title: a Y.Text. */
export const TITLE_TEXT = 'title';

/** Shown wherever a document has no title yet. */
export const UNTITLED = 'Untitled document';
