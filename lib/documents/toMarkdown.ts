/**
 * Markdown for a document of our schema that no renderer can turn into markup it did not mean:
 * Markdown renderers commonly pass inline HTML through, so a paragraph reading
 * `<img src=x onerror=…>` exported verbatim runs script in a reader's browser (issue #15, item 5).
 *
 * prosemirror-markdown lays out the blocks; text, links and the title are escaped here, because
 * its own escaping leaves `<`, `&`, `(`, `!` and `|` alone, escapes line starts only at the start of
 * a block (not after a hard break), and writes a link whose text equals its href as an autolink
 * `<…>`, which an href containing `>` ends early. Expects a body that went through
 * `exportableBody` (only allowed links, no line breaks inside inline text).
 */
import { MarkdownSerializer, defaultMarkdownSerializer, type MarkdownSerializerState } from 'prosemirror-markdown';
import { Fragment, type Mark, type Node as PMNode } from 'prosemirror-model';

/**
 * Backslash-escaped wherever they appear: CommonMark's inline syntax, GFM tables (`|`) and
 * strikethrough (`~`), heading closers (`#`), and `{}` for renderers with attribute lists
 * (kramdown's `{: onclick=…}`). CommonMark lets any ASCII punctuation be escaped, so escaping one
 * more than needed costs only looks. `!` matters only right before a link: see the text writer.
 */
const SPECIAL = /[\\*_{}[\]()#|~]/g;

/**
 * Written as entities, not backslash escapes. A linkifier that scans the source (markdown-it's
 * for `scheme:` links, cmark-gfm's) takes a backslash right after a URL into the URL, so the
 * escaped character behind it comes back live: `http://x/\<img src=x onerror=…>` rendered a tag.
 * Most characters coming back one at a time can only make emphasis or a link to one of our own
 * (checked) hrefs; these cannot be allowed to: `<` and `&` start HTML and entities, and a stray
 * backtick would pair with a code span's fence and leave that span's raw content outside it.
 */
const ENTITY_SPECIAL = /[<>&`]/g;
const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '`': '&#96;' };
const ALL_SPECIAL = new RegExp(`${SPECIAL.source}|${ENTITY_SPECIAL.source}`, 'g');

/** Text as Markdown that renders as exactly that text. `lineStart`: the text begins a line. */
export function escapeMarkdownText(text: string, lineStart: boolean): string {
  const escaped = text.replace(ALL_SPECIAL, (c) => ENTITIES[c] ?? `\\${c}`); // one pass: never escape an escape
  if (!lineStart) return escaped;
  return (
    escaped
      // List items, setext underlines and thematic breaks start with these; ordered lists with digits and a dot.
      .replace(/^([ \t]*)([-+=])/, '$1\\$2')
      .replace(/^([ \t]*\d+)\./, '$1\\.')
      // Leading blanks would be dropped, or make an indented code block: keep them as characters.
      .replace(/^[ \t]+/, (blanks) => blanks.replace(/ /g, '&#32;').replace(/\t/g, '&#9;'))
  );
}

/**
 * A link destination that stays inside its `(…)`: no blanks, controls, parentheses or angle
 * brackets (percent-encoded), and `&` / `\` escaped so entities and escapes keep their letters.
 */
export function markdownLinkDestination(href: string): string {
  return href.replace(/[\u0000-\u0020\u007f-\u{10ffff}()<>"'`]/gu, percentEncode).replace(/[\\&]/g, '\\$&');
}

function percentEncode(char: string): string {
  return Array.from(new TextEncoder().encode(char), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

function linkTitle(title: unknown): string {
  if (typeof title !== 'string' || !title) return '';
  return ` "${escapeMarkdownText(title.replace(/\s+/g, ' '), false).replace(/"/g, '\\"')}"`;
}

const serializer = new MarkdownSerializer(
  {
    ...defaultMarkdownSerializer.nodes,
    text(state: MarkdownSerializerState, node: PMNode, parent: PMNode, index: number) {
      // prosemirror-markdown knows it is at a line start only at the start of a block; after a
      // hard break it is too.
      const lineStart = index === 0 || parent.child(index - 1).type.name === 'hard_break';
      let text = escapeMarkdownText(node.text ?? '', lineStart);
      // `!` right before a link's `[` would make it an image.
      if (text.endsWith('!') && opensLink(node, parent.maybeChild(index + 1))) text = `${text.slice(0, -1)}&#33;`;
      state.text(text, false);
    },
  },
  {
    ...defaultMarkdownSerializer.marks,
    link: {
      open: '[',
      close: (_state: MarkdownSerializerState, mark: Mark) => `](${markdownLinkDestination(String(mark.attrs.href))}${linkTitle(mark.attrs.title)})`,
      mixable: true,
    },
  },
);

export function toMarkdown(doc: PMNode): string {
  return serializer.serialize(guardCodeSpans(doc));
}

/**
 * Inline code is written raw between backticks: nothing inside a code span can be escaped. A
 * linkifier that scans the source takes a backtick right after a URL into the URL, and the code's
 * content then reads as Markdown and HTML: `http://x/` followed by the code
 * `<img src=x onerror=…>` rendered a live tag. A URL never crosses whitespace, so code that
 * begins a line or follows whitespace stays code; any other code loses its code mark and is
 * written as escaped text: its characters survive, its monospace does not.
 */
function guardCodeSpans(node: PMNode): PMNode {
  if (node.isLeaf) return node;
  const children: PMNode[] = [];
  node.forEach((child, _offset, index) => {
    const code = child.isText ? child.marks.find((mark) => mark.type.spec.code) : undefined;
    if (code && !followsLineStartOrBlank(node, index)) children.push(child.mark(code.removeFromSet(child.marks)));
    else children.push(guardCodeSpans(child));
  });
  return node.copy(Fragment.fromArray(children));
}

function followsLineStartOrBlank(parent: PMNode, index: number): boolean {
  if (index === 0) return true;
  const before = parent.child(index - 1);
  if (before.type.name === 'hard_break') return true;
  // The trailing blanks of em and strong text are written after their closing delimiters, right
  // before the backtick; a link's inside its brackets, inline code's inside its backticks.
  return before.isText && /\s$/.test(before.text ?? '') && !before.marks.some((mark) => mark.type.spec.code || isLink(mark));
}

function opensLink(node: PMNode, next: PMNode | null): boolean {
  const link = next?.marks.find(isLink);
  return link !== undefined && !link.isInSet(node.marks);
}

function isLink(mark: Mark): boolean {
  return mark.type.name === 'link';
}

/** The title as the first line of a Markdown file: one heading line. */
export function markdownTitle(title: string): string {
  return `# ${escapeMarkdownText(title.replace(/\s+/g, ' '), false)}`;
}
