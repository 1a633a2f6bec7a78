/**
 * Reading never writes (issue #15, item 6): exports read the body with readBody, which must leave
 * the Y document byte-identical and skip, never delete, what the schema does not know.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { exportDocument, EXPORT_FORMATS } from '../../lib/documents/exportDocument';
import { MAX_BODY_DEPTH, readBody } from '../../lib/documents/readBody';
import { seededRandom } from '../support/fuzzFrames';

/** A Y element to build: `el(name, attrs, ...children)`; a string is a Y.XmlText. */
interface Spec {
  name: string;
  attrs?: Record<string, unknown>;
  children?: (Spec | string | TextSpec)[];
}
interface TextSpec {
  runs: { text: string; attrs?: Record<string, unknown> }[];
}

function el(name: string, attrs: Record<string, unknown> | null, ...children: (Spec | string | TextSpec)[]): Spec {
  return { name, attrs: attrs ?? undefined, children };
}

function build(parent: Y.XmlFragment | Y.XmlElement, specs: (Spec | string | TextSpec)[]): void {
  for (const spec of specs) {
    if (typeof spec === 'string' || 'runs' in spec) {
      const text = new Y.XmlText();
      parent.push([text]);
      for (const run of typeof spec === 'string' ? [{ text: spec }] : spec.runs) text.insert(text.length, run.text, run.attrs ?? {});
      continue;
    }
    const element = new Y.XmlElement(spec.name);
    parent.push([element]);
    for (const [key, value] of Object.entries(spec.attrs ?? {})) element.setAttribute(key, value as string);
    build(element, spec.children ?? []);
  }
}

function docWith(...body: (Spec | string | TextSpec)[]): Y.Doc {
  const doc = new Y.Doc();
  build(doc.getXmlFragment('prosemirror'), body);
  return doc;
}

function read(doc: Y.Doc) {
  const node = readBody(doc.getXmlFragment('prosemirror'));
  node.check(); // throws if the result is not a valid document of the schema
  return node.toJSON() as unknown;
}

const p = (...children: (Spec | string | TextSpec)[]) => el('paragraph', null, ...children);
const text = (value: string, marks?: unknown[]) => ({ type: 'text', text: value, ...(marks ? { marks } : {}) });
const para = (...content: unknown[]) => ({ type: 'paragraph', ...(content.length ? { content } : {}) });

/** A newer version's content: a table, an unknown mark, unknown attributes, a mention node. */
function docFromTheFuture(): Y.Doc {
  const doc = docWith(
    el('heading', { level: 2, align: 'center' }, 'Plan'),
    el('table', { border: 1 }, el('table_row', null, el('table_cell', null, p('cell one')), el('table_cell', null, p('cell two')))),
    // ' and' and ' tail': two neighbouring Y.Texts made by this very client, which y-prosemirror
    // merges into one, in a transaction.
    p({ runs: [{ text: 'known ' }, { text: 'highlighted', attrs: { highlight: { color: 'yellow' } } }, { text: ' and bold', attrs: { strong: {} } }] }, el('mention', { user: 'ana' }, '@ana'), ' and', ' tail'),
  );
  return doc;
}

describe('reading the body', () => {
  it('an export opens no transaction and leaves every byte of the document as it was', () => {
    const doc = docFromTheFuture();
    const before = { state: Y.encodeStateAsUpdate(doc), vector: Y.encodeStateVector(doc), xml: doc.getXmlFragment('prosemirror').toString() };
    let transactions = 0;
    doc.on('beforeTransaction', () => (transactions += 1));
    for (const format of EXPORT_FORMATS) {
      const out = exportDocument(doc, format).body;
      expect(out, format).toContain('cell one');
      expect(out, format).toContain('highlighted');
      expect(out, format).toContain('tail');
    }
    expect(transactions).toBe(0);
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before.state);
    expect(Y.encodeStateVector(doc)).toEqual(before.vector);
    expect(doc.getXmlFragment('prosemirror').toString()).toBe(before.xml);
    expect(doc.getXmlFragment('prosemirror').toString()).toContain('<table border="1">');
  });

  it('unwraps unknown elements and ignores unknown marks and attributes', () => {
    expect(read(docFromTheFuture())).toEqual({
      type: 'doc',
      content: [
        { type: 'heading', attrs: { level: 2 }, content: [text('Plan')] },
        para(text('cell one')),
        para(text('cell two')),
        para(text('known highlighted'), text(' and bold', [{ type: 'strong' }]), text('@ana and tail')),
      ],
    });
  });

  it('fits content the schema would not accept where it stands', () => {
    const doc = docWith(
      'loose text',
      el('list_item', null, p('stray item')),
      el('bullet_list', null, p('not in an item')),
      p('outer ', p('inner'), el('heading', { level: 1 }, ' heading')),
      el('blockquote', null),
      el('bullet_list', null),
      el('list_item', null, el('heading', { level: 2 }, 'no paragraph first')),
      el('code_block', null, { runs: [{ text: 'x = 1', attrs: { strong: {} } }] }, el('hard_break', null), 'y', el('span', null, ' = 2')),
      el('doc', null, p('nested doc')),
      el('text', null, 'element named text'),
      el('hard_break', null),
    );
    expect(read(doc)).toEqual({
      type: 'doc',
      content: [
        para(text('loose text')),
        { type: 'bullet_list', content: [{ type: 'list_item', content: [para(text('stray item'))] }] },
        { type: 'bullet_list', content: [{ type: 'list_item', content: [para(text('not in an item'))] }] },
        para(text('outer inner heading')),
        { type: 'bullet_list', content: [{ type: 'list_item', content: [para(), { type: 'heading', attrs: { level: 2 }, content: [text('no paragraph first')] }] }] },
        { type: 'code_block', content: [text('x = 1\ny = 2')] },
        para(text('nested doc')),
        para(text('element named text'), { type: 'hard_break' }),
      ],
    });
  });

  it('validates attributes and marks, and never takes a name from Object.prototype', () => {
    const doc = docWith(
      el('heading', { level: 0 }, 'h0'),
      el('heading', { level: 9 }, 'h9'),
      el('heading', { level: '2><script>' }, 'bad'),
      el('ordered_list', { order: '"><script>' }, el('list_item', null, p('a'))),
      el('ordered_list', { order: 5 }, el('list_item', null, p('b'))),
      el('constructor', null, p('c')),
      el('__proto__', null, p('d')),
      el('toString', null, p('e')),
      p({
        runs: [
          { text: 'no href', attrs: { link: { title: 'x' } } },
          { text: ' hashed', attrs: { 'link--AbCd1234': { href: 'https://example.com/', title: 42 } } },
          { text: ' proto', attrs: { constructor: {}, ['__proto__']: {}, hasOwnProperty: {} } },
        ],
      }),
    );
    const link = { type: 'link', attrs: { href: 'https://example.com/', title: null } };
    expect(read(doc)).toEqual({
      type: 'doc',
      content: [
        { type: 'heading', attrs: { level: 1 }, content: [text('h0')] },
        { type: 'heading', attrs: { level: 3 }, content: [text('h9')] },
        { type: 'heading', attrs: { level: 1 }, content: [text('bad')] },
        { type: 'ordered_list', attrs: { order: 1 }, content: [{ type: 'list_item', content: [para(text('a'))] }] },
        { type: 'ordered_list', attrs: { order: 5 }, content: [{ type: 'list_item', content: [para(text('b'))] }] },
        para(text('c')),
        para(text('d')),
        para(text('e')),
        para(text('no href'), text(' hashed', [link]), text(' proto')),
      ],
    });
  });

  it('skips embeds and empty runs, and survives a hostile depth', () => {
    const doc = new Y.Doc();
    const fragment = doc.getXmlFragment('prosemirror');
    const paragraph = new Y.XmlElement('paragraph');
    fragment.push([paragraph]);
    const t = new Y.XmlText();
    paragraph.push([t]);
    t.insert(0, 'before ');
    t.insertEmbed(t.length, { image: 'x.png' });
    t.insert(t.length, 'after');
    // Deep enough to overflow the stack of a reader without a limit.
    doc.transact(() => {
      let parent: Y.XmlFragment | Y.XmlElement = fragment;
      for (let i = 0; i < 10_000; i++) {
        const child: Y.XmlElement = new Y.XmlElement(i % 2 ? 'div' : 'blockquote');
        parent.push([child]);
        parent = child;
      }
      parent.push([new Y.XmlText('too deep')]);
    });
    expect(read(doc)).toEqual({ type: 'doc', content: [para(text('before after'))] });
  });

  it('reads any tree into a valid document without a transaction (seeded random trees)', () => {
    const random = seededRandom(6);
    const names = ['paragraph', 'heading', 'blockquote', 'code_block', 'horizontal_rule', 'bullet_list', 'ordered_list', 'list_item', 'hard_break', 'text', 'doc', 'table', 'image', 'constructor'];
    const marks = [{}, { strong: {} }, { em: true }, { code: null }, { link: { href: 'https://a.b/' } }, { link: 7 }, { 'em--12345678': {} }, { unknown: 1 }];
    const attrs = [{}, { level: 2 }, { level: 'x' }, { order: 3 }, { order: -1 }, { style: 'x' }];
    const tree = (depth: number): Spec | TextSpec => {
      if (depth > 4 || random() < 0.3) {
        const runs = Array.from({ length: Math.floor(random() * 3) }, () => ({ text: random() < 0.1 ? '' : 'ab', attrs: marks[Math.floor(random() * marks.length)] }));
        return { runs };
      }
      const children = Array.from({ length: Math.floor(random() * 4) }, () => tree(depth + 1));
      return el(names[Math.floor(random() * names.length)]!, attrs[Math.floor(random() * attrs.length)]!, ...children);
    };
    for (let run = 0; run < 150; run++) {
      const doc = docWith(...Array.from({ length: Math.floor(random() * 4) }, () => tree(0)));
      const before = Y.encodeStateAsUpdate(doc);
      let transactions = 0;
      doc.on('beforeTransaction', () => (transactions += 1));
      expect(() => read(doc), `run ${run}: ${doc.getXmlFragment('prosemirror').toString()}`).not.toThrow();
      expect(transactions).toBe(0);
      expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
    }
  });
});
