/**
 * Renders a ProseMirror document to an HTML string using the schema's own `toDOM` specs, without
 * a DOM (the server has none). Every text and attribute value is escaped.
 */
import type { DOMOutputSpec, Mark, Node as PMNode } from 'prosemirror-model';

const VOID_ELEMENTS = new Set(['br', 'hr', 'img']);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function nodeToHtml(node: PMNode): string {
  if (node.isText) return wrapInMarks(escapeHtml(node.text ?? ''), node.marks);
  const toDOM = node.type.spec.toDOM;
  const inner = () => {
    let html = '';
    node.forEach((child) => (html += nodeToHtml(child)));
    return html;
  };
  if (!toDOM) return inner();
  return renderSpec(toDOM(node), inner);
}

/** The children of the document node, i.e. the body without a wrapper element. */
export function fragmentToHtml(doc: PMNode): string {
  let html = '';
  doc.forEach((child) => (html += nodeToHtml(child)));
  return html;
}

function wrapInMarks(html: string, marks: readonly Mark[]): string {
  let out = html;
  for (let i = marks.length - 1; i >= 0; i--) {
    const mark = marks[i]!;
    const toDOM = mark.type.spec.toDOM;
    if (toDOM) {
      const content = out;
      out = renderSpec(toDOM(mark, true), () => content);
    }
  }
  return out;
}

function renderSpec(spec: DOMOutputSpec, content: () => string): string {
  if (typeof spec === 'string') return escapeHtml(spec);
  if (!Array.isArray(spec)) throw new RangeError('toDOM returned a DOM node; only array specs can be rendered without a DOM');
  const [rawTag, ...rest] = spec as readonly unknown[];
  const tag = String(rawTag).replace(/^.*\s/, ''); // drop a namespace prefix ("ns tag")
  // Tags are built from node attributes (`"h" + level`), which any editor can set: never trust one.
  if (!/^[a-z][a-z0-9]*$/.test(tag)) throw new RangeError(`toDOM returned the tag name ${JSON.stringify(tag)}`);
  let attrs = '';
  let children = rest;
  const first = rest[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    for (const [name, value] of Object.entries(first as Record<string, unknown>)) {
      if (value === null || value === undefined || value === false) continue;
      if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new RangeError(`toDOM returned the attribute name ${JSON.stringify(name)}`);
      attrs += ` ${name}="${escapeHtml(String(value))}"`;
    }
    children = rest.slice(1);
  }
  if (VOID_ELEMENTS.has(tag)) return `<${tag}${attrs}>`;
  let inner = '';
  for (const child of children) {
    inner += child === 0 ? content() : renderSpec(child as DOMOutputSpec, content);
  }
  return `<${tag}${attrs}>${inner}</${tag}>`;
}
