/**
 * Reads the body (the `prosemirror` Y.XmlFragment) into a ProseMirror document of our schema
 * without ever writing to it.
 *
 * y-prosemirror's `yXmlFragmentToProseMirrorRootNode` is not a reader: it deletes, in a
 * transaction on the document it reads, every Y element the schema cannot build (and merges
 * neighbouring Y.Texts). Run on the server's live document for an export, a *view* link deleted a
 * newer version's table from everyone's replica (issue #15, item 6). This module only calls Yjs
 * read methods — `toArray`, `getAttribute`, `nodeName`, and `toDelta` without snapshots — none of
 * which opens a transaction.
 *
 * What the schema does not know is skipped, never removed:
 * - an unknown element (a newer version's `table`, say) is unwrapped: its children are read in its
 *   place, so its text still reaches the reader (a table's cells come out as paragraphs), which is
 *   more useful in an export than losing it and harmless because the Y document keeps the table;
 * - unknown attributes and marks are ignored; a known one with an unusable value falls back to
 *   its default (a heading level outside 1–3 is clamped) or, for a link without a string href,
 *   is left off while its text stays;
 * - content in the wrong place is fitted the way the schema allows: inline content among blocks
 *   becomes a paragraph, a block inside a paragraph contributes its inline content, a block in a
 *   list gets a list item, a list item outside a list gets a bullet list.
 * The result always passes `node.check()`.
 */
import * as Y from 'yjs';
import { Fragment, Mark, type Attrs, type MarkType, type Node as PMNode, type NodeType } from 'prosemirror-model';
import { HEADING_LEVELS, schema } from '../editor/schema';

/**
 * Elements nested deeper than this are skipped with their content: no editor makes such a tree,
 * and a hostile one must not overflow the stack of whoever reads it.
 */
export const MAX_BODY_DEPTH = 100;

/** CommonMark list numbers have at most 9 digits; anything else is not a list start we keep. */
const MAX_LIST_ORDER = 999_999_999;

/** y-prosemirror stores a mark that may overlap itself as `<name>--<8-character hash>`. */
const HASHED_MARK_NAME = /^(.*)--[a-zA-Z0-9+/=]{8}$/;

type YChild = Y.XmlElement | Y.XmlText | Y.XmlHook;

/** The node types this reader treats specially; a schema without one fails at load, not mid-export. */
const NODES = {
  paragraph: schemaNode('paragraph'),
  heading: schemaNode('heading'),
  codeBlock: schemaNode('code_block'),
  blockquote: schemaNode('blockquote'),
  bulletList: schemaNode('bullet_list'),
  orderedList: schemaNode('ordered_list'),
  listItem: schemaNode('list_item'),
};

/** The body of `fragment` as a valid document of our schema. Never modifies `fragment`. */
export function readBody(fragment: Y.XmlFragment): PMNode {
  const doc = schema.topNodeType.createAndFill(null, blockLevel(readBlocks(fragment.toArray(), 0)));
  if (!doc) throw new RangeError('readBody: fitted content does not fit the document node');
  return doc;
}

/** Block nodes and list items read from Y children; runs of inline content become paragraphs. */
function readBlocks(children: readonly YChild[], depth: number): PMNode[] {
  const out: PMNode[] = [];
  let inline: PMNode[] = [];
  const endParagraph = () => {
    if (inline.length > 0) out.push(NODES.paragraph.create(null, inline));
    inline = [];
  };
  for (const child of children) {
    if (child instanceof Y.XmlText) {
      inline.push(...readText(child));
      continue;
    }
    if (!(child instanceof Y.XmlElement) || depth >= MAX_BODY_DEPTH) continue; // hooks carry no body content
    const type = knownNodeType(child.nodeName);
    if (type?.isInline) {
      inline.push(...readInlineElement(child, type, depth));
      continue;
    }
    endParagraph();
    if (type) out.push(...readBlockElement(child, type, depth));
    else out.push(...readBlocks(child.toArray(), depth + 1)); // unknown: unwrapped, see the top
  }
  endParagraph();
  return out;
}

function readBlockElement(el: Y.XmlElement, type: NodeType, depth: number): PMNode[] {
  if (type === NODES.codeBlock) {
    const text = plainText(el, depth);
    return [type.create(null, text ? schema.text(text) : null)];
  }
  if (type.inlineContent) return [type.create(readAttrs(el, type), readInline(el.toArray(), depth + 1))];
  if (type.isLeaf) return [type.create(readAttrs(el, type))];

  const children = readBlocks(el.toArray(), depth + 1);
  if (type === schema.topNodeType) return blockLevel(children); // a nested "doc": unwrapped
  if (type === NODES.bulletList || type === NODES.orderedList) {
    if (children.length === 0) return [];
    const items = children.map((child) => (child.type === NODES.listItem ? child : NODES.listItem.createAndFill(null, child)));
    return fitted(type, readAttrs(el, type), items, children);
  }
  const blocks = blockLevel(children);
  if (type === NODES.blockquote && blocks.length === 0) return [];
  return fitted(type, readAttrs(el, type), blocks, blocks);
}

/** `type` filled with `content`, or `fallback` in its place when the schema cannot make it fit. */
function fitted(type: NodeType, attrs: Attrs | null, content: readonly (PMNode | null)[], fallback: PMNode[]): PMNode[] {
  if (content.includes(null)) return fallback;
  const node = type.createAndFill(attrs, content as PMNode[]);
  return node ? [node] : fallback;
}

/** Nodes that may stand where a block is expected: stray list items are gathered into bullet lists. */
function blockLevel(nodes: readonly PMNode[]): PMNode[] {
  const out: PMNode[] = [];
  let items: PMNode[] = [];
  const endList = () => {
    if (items.length > 0) out.push(NODES.bulletList.create(null, items));
    items = [];
  };
  for (const node of nodes) {
    if (node.type === NODES.listItem) items.push(node);
    else {
      endList();
      out.push(node);
    }
  }
  endList();
  return out;
}

/** Inline nodes read from Y children; any element that is not inline contributes its inline content. */
function readInline(children: readonly YChild[], depth: number): PMNode[] {
  const out: PMNode[] = [];
  for (const child of children) {
    if (child instanceof Y.XmlText) out.push(...readText(child));
    else if (child instanceof Y.XmlElement && depth < MAX_BODY_DEPTH) {
      const type = knownNodeType(child.nodeName);
      if (type?.isInline) out.push(...readInlineElement(child, type, depth));
      else out.push(...readInline(child.toArray(), depth + 1));
    }
  }
  return out;
}

function readInlineElement(el: Y.XmlElement, type: NodeType, depth: number): PMNode[] {
  // `text` is never an element in y-prosemirror's encoding; one that claims to be is unwrapped.
  if (type.isText) return readInline(el.toArray(), depth + 1);
  return [type.create(readAttrs(el, type))];
}

/** The text runs of a Y.XmlText with the marks the schema knows. Embeds are not body content. */
function readText(text: Y.XmlText): PMNode[] {
  const out: PMNode[] = [];
  for (const op of text.toDelta() as { insert?: unknown; attributes?: Record<string, unknown> }[]) {
    if (typeof op.insert !== 'string' || op.insert.length === 0) continue;
    out.push(schema.text(op.insert, readMarks(op.attributes)));
  }
  return out;
}

/** A code block's text: every string below it, hard breaks as line breaks, marks dropped. */
function plainText(el: Y.XmlElement, depth: number): string {
  let text = '';
  for (const child of el.toArray()) {
    if (child instanceof Y.XmlText) {
      for (const op of child.toDelta() as { insert?: unknown }[]) if (typeof op.insert === 'string') text += op.insert;
    } else if (child instanceof Y.XmlElement && depth + 1 < MAX_BODY_DEPTH) {
      text += child.nodeName === 'hard_break' ? '\n' : plainText(child, depth + 1);
    }
  }
  return text;
}

function readMarks(attributes: Record<string, unknown> | undefined): readonly Mark[] {
  let marks: readonly Mark[] = Mark.none;
  for (const [key, value] of Object.entries(attributes ?? {})) {
    const type = knownMarkType(HASHED_MARK_NAME.exec(key)?.[1] ?? key);
    const attrs = type && markAttrs(type, value);
    if (type && attrs) marks = type.create(attrs).addToSet(marks);
  }
  return marks;
}

/** The attributes of a mark from its Y formatting value, or null when the mark cannot be kept. */
function markAttrs(type: MarkType, value: unknown): Attrs | null {
  if (type !== schema.marks.link) return {};
  const attrs = (value !== null && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  if (typeof attrs.href !== 'string') return null;
  return { href: attrs.href, title: typeof attrs.title === 'string' ? attrs.title : null };
}

/** The schema's attributes of `type` from `el`, each validated; anything unusable takes its default. */
function readAttrs(el: Y.XmlElement, type: NodeType): Attrs | null {
  if (type === NODES.heading) {
    const level = el.getAttribute('level') as unknown;
    const [min, max] = [HEADING_LEVELS[0], HEADING_LEVELS[HEADING_LEVELS.length - 1]!];
    return { level: Number.isInteger(level) ? Math.min(max, Math.max(min, level as number)) : min };
  }
  if (type === NODES.orderedList) {
    const order = el.getAttribute('order') as unknown;
    return { order: Number.isInteger(order) && (order as number) >= 0 && (order as number) <= MAX_LIST_ORDER ? order : 1 };
  }
  return null;
}

function schemaNode(name: string): NodeType {
  const type = knownNodeType(name);
  if (!type) throw new RangeError(`readBody: the schema has no ${name} node`);
  return type;
}

/** Own properties only: a node named `constructor` or `__proto__` is unknown, not Object's. */
function knownNodeType(name: string): NodeType | undefined {
  return Object.hasOwn(schema.nodes, name) ? schema.nodes[name] : undefined;
}

function knownMarkType(name: string): MarkType | undefined {
  return Object.hasOwn(schema.marks, name) ? schema.marks[name] : undefined;
}
