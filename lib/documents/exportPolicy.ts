/**
 * The body as every exporter shows it (issue #15, item 5). Anyone with an edit link can write any
 * attribute value and any character into the shared document, so before a document leaves as a
 * file:
 * - links follow the editor's policy (lib/editor/linkPolicy.ts): an allowed href is kept in its
 *   normalised form; any other link is exported as its plain text;
 * - line breaks inside a text node (the editor shows them, as it renders text pre-wrapped) become
 *   hard breaks, so no format can read them as the end of a paragraph or the start of a new block;
 *   inside inline code, where a hard break cannot go, they become spaces. A code block keeps its
 *   lines, with `\r\n` and lone `\r` as `\n`.
 */
import { Fragment, type Mark, type Node as PMNode } from 'prosemirror-model';
import { safeLinkHref } from '../editor/linkPolicy';
import { schema } from '../editor/schema';

const LINE_BREAK = /\r\n?|\n/;

const hardBreak = schema.nodes.hard_break ?? missingNode('hard_break');

function missingNode(name: string): never {
  throw new RangeError(`exportPolicy: the schema has no ${name} node`);
}

export function exportableBody(doc: PMNode): PMNode {
  return mapNode(doc);
}

function mapNode(node: PMNode): PMNode {
  if (node.isLeaf) return node;
  const children: PMNode[] = [];
  node.forEach((child) => {
    if (!child.isText) children.push(mapNode(child));
    else if (node.type.spec.code) children.push(schema.text(child.text!.replace(/\r\n?/g, '\n')));
    else children.push(...mapText(child));
  });
  return node.copy(Fragment.fromArray(children));
}

function mapText(text: PMNode): PMNode[] {
  const marks = safeMarks(text.marks);
  const value = text.text!;
  if (marks.some((mark) => mark.type === schema.marks.code)) return [schema.text(value.replace(/(\r\n?|\n)+/g, ' '), marks)];
  const out: PMNode[] = [];
  value.split(LINE_BREAK).forEach((line, i) => {
    if (i > 0) out.push(hardBreak.create(null, null, marks));
    if (line) out.push(schema.text(line, marks));
  });
  return out;
}

function safeMarks(marks: readonly Mark[]): readonly Mark[] {
  return marks.flatMap((mark) => {
    if (mark.type !== schema.marks.link) return [mark];
    const href = safeLinkHref(String(mark.attrs.href));
    return href ? [schema.marks.link.create({ ...mark.attrs, href })] : [];
  });
}
