/**
 * The document schema, shared by the browser editor and the server's exporters so both read the
 * same Y.XmlFragment the same way. Node and mark names follow prosemirror-schema-basic, which is
 * what prosemirror-markdown's serializer expects.
 */
import { Schema, type MarkSpec, type NodeSpec } from 'prosemirror-model';
import { marks as basicMarks, nodes as basicNodes } from 'prosemirror-schema-basic';
import { addListNodes } from 'prosemirror-schema-list';
import { safeLinkHref } from './linkPolicy';

/**
 * The version of this schema. Bump it whenever the schema gains a node or mark type or an
 * attribute: an editor whose version is lower than the one a document records (see
 * lib/documents/schemaVersion.ts) cannot map the newer content, and y-prosemirror would delete it
 * for everyone, so such an editor is told to reload instead (issue #15, item 6).
 */
export const SCHEMA_VERSION = 1;

export const HEADING_LEVELS = [1, 2, 3] as const;

const heading: NodeSpec = {
  ...basicNodes.heading,
  parseDOM: HEADING_LEVELS.map((level) => ({ tag: `h${level}`, attrs: { level } })),
};

const link: MarkSpec = {
  attrs: { href: { validate: 'string' }, title: { default: null } },
  inclusive: false,
  parseDOM: [
    {
      tag: 'a[href]',
      getAttrs(dom: HTMLElement) {
        const href = safeLinkHref(dom.getAttribute('href') ?? '');
        return href ? { href, title: dom.getAttribute('title') } : false;
      },
    },
  ],
  toDOM(mark) {
    // A remote peer can write any attribute value into the shared document: re-check on render.
    const href = safeLinkHref(String(mark.attrs.href)) ?? '#';
    return ['a', { href, title: mark.attrs.title, rel: 'noopener noreferrer nofollow', target: '_blank' }, 0];
  },
};

const { image: _image, heading: _heading, ...keptNodes } = basicNodes;

const baseSchema = new Schema({
  nodes: { ...keptNodes, heading },
  marks: { ...basicMarks, link },
});

export const schema = new Schema({
  nodes: addListNodes(baseSchema.spec.nodes, 'paragraph block*', 'block'),
  marks: baseSchema.spec.marks,
});
