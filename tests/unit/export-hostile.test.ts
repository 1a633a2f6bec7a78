/**
 * Exports of content a hostile editor planted (issue #15, item 5): no format may carry active
 * content. Markdown is checked the way a reader meets it: rendered by a renderer that allows
 * inline HTML and every link scheme, so only our escaping stands between the text and markup.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import MarkdownIt from 'markdown-it';
import { exportDocument } from '../../lib/documents/exportDocument';
import { seededRandom } from '../support/fuzzFrames';

/** A renderer as permissive as they come: raw HTML on, every link scheme accepted. */
function permissiveMarkdown(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: true });
  md.validateLink = () => true;
  return md;
}

const MARKDOWN_TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'em', 'strong', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'hr', 'br']);
const HTML_EXPORT_TAGS = new Set([...MARKDOWN_TAGS, 'html', 'head', 'meta', 'title', 'body']);
const SAFE_ATTRIBUTES = new Set(['href', 'title', 'start', 'rel', 'target', 'charset', 'http-equiv', 'content']);
const TAG = /<(\/?)([A-Za-z][^\s/>]*)([^>]*)>/g;
const ATTRIBUTE = /([^\s=/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

/** Every problem with the markup in `html`: unknown tags, event handlers, unsafe hrefs, stray `<`. */
function markupProblems(html: string, allowedTags: Set<string>): string[] {
  const problems: string[] = [];
  const rest = html.replace(/^<!doctype html>/i, '').replace(TAG, (tag, _close: string, rawName: string, attrs: string) => {
    const name = rawName.toLowerCase();
    if (!allowedTags.has(name)) problems.push(`tag <${name}>`);
    for (const m of attrs.matchAll(ATTRIBUTE)) {
      const attr = m[1]!.toLowerCase();
      const value = m[2] ?? m[3] ?? m[4] ?? '';
      if (!SAFE_ATTRIBUTES.has(attr)) problems.push(`attribute ${attr} in ${tag}`);
      if (attr === 'href' && !/^(https?:|mailto:)/i.test(value.trim())) problems.push(`href ${value}`);
    }
    return '';
  });
  // Whatever is left is text: a `<` there would be markup the pattern above did not recognise.
  if (rest.includes('<')) problems.push(`unrecognised markup near ${JSON.stringify(rest.slice(rest.indexOf('<'), rest.indexOf('<') + 40))}`);
  return problems;
}

function paragraph(fragment: Y.XmlFragment | Y.XmlElement, fill: (text: Y.XmlText) => void): Y.XmlElement {
  const p = new Y.XmlElement('paragraph');
  const text = new Y.XmlText();
  fragment.push([p]);
  p.push([text]);
  fill(text);
  return p;
}

/** What issue #15 saw planted over an edit link, and the neighbours of each trick. */
function hostileDoc(): Y.Doc {
  const doc = new Y.Doc();
  const body = doc.getXmlFragment('prosemirror');
  doc.getText('title').insert(0, '</title><script>window.__pwned=1</script>');
  paragraph(body, (t) => {
    t.insert(0, ' click-me', { link: { href: 'javascript:window.__pwned=2' } });
    t.insert(t.length, '<img src=x onerror="window.__pwned=3">');
  });
  // The same through y-prosemirror's hashed attribute name for overlapping marks.
  paragraph(body, (t) => t.insert(0, 'hashed', { 'link--AbCdEfGh': { href: ' JaVaScRiPt:window.__pwned=4' } }));
  // An autolink whose text equals its href: `<mailto:…>` would let `>` end it early.
  const mailto = 'mailto:a@b.c><img src=x onerror=window.__pwned=5>';
  paragraph(body, (t) => t.insert(0, mailto, { link: { href: mailto } }));
  // An allowed link whose href tries to leave `(…)` and whose title tries to leave `"…"`.
  paragraph(body, (t) =>
    t.insert(0, 'escape the link', { link: { href: 'https://example.com/a) <img src=x onerror=window.__pwned=6>', title: '"><img src=x onerror=window.__pwned=7>\n\n<script>x</script>' } }),
  );
  paragraph(body, (t) => {
    t.insert(0, 'code ', {});
    t.insert(t.length, '`` <img src=x onerror=window.__pwned=8> ``', { code: {} });
    t.insert(t.length, '\n\n<script>window.__pwned=9</script>', { code: {} });
  });
  // A linkifier that scans the source takes the backtick after a URL into the URL, unwrapping the code.
  paragraph(body, (t) => {
    t.insert(0, 'see http://example.com/');
    t.insert(t.length, '<img src=x onerror=alert(8)>', { code: {} });
  });
  paragraph(body, (t) => t.insert(0, 'http://example.com/<img src=x onerror=alert(19)>'));
  // `!` before a link's `[` makes an image, here one that loads from anywhere.
  paragraph(body, (t) => {
    t.insert(0, 'see http://example.com/look!');
    t.insert(t.length, 'tracker', { link: { href: 'https://tracker.example/pixel.png' } });
  });
  paragraph(body, (t) => t.insert(0, 'line\n\n<script>window.__pwned=10</script>\n\n<img src=x onerror=window.__pwned=11>'));
  const code = new Y.XmlElement('code_block');
  body.push([code]);
  code.push([new Y.XmlText('```\n</code></pre><script>window.__pwned=12</script>\n````')]);
  const heading = new Y.XmlElement('heading');
  body.push([heading]);
  heading.setAttribute('level', '1><script>window.__pwned=13</script' as string);
  heading.push([new Y.XmlText('bad level')]);
  const list = new Y.XmlElement('ordered_list');
  body.push([list]);
  list.setAttribute('order', '"><script>window.__pwned=14</script>' as string);
  const item = new Y.XmlElement('list_item');
  list.push([item]);
  paragraph(item, (t) => t.insert(0, 'item'));
  // Elements and marks the schema does not know, named like active HTML.
  const script = new Y.XmlElement('script');
  body.push([script]);
  script.push([new Y.XmlText('window.__pwned=15')]);
  const img = new Y.XmlElement('img');
  body.push([img]);
  img.setAttribute('src', 'x');
  img.setAttribute('onerror', 'window.__pwned=16');
  paragraph(body, (t) => t.insert(0, 'unknown mark', { onerror: { value: 'window.__pwned=17' }, a: { href: 'javascript:window.__pwned=18' } }));
  return doc;
}

describe('exports of hostile content', () => {
  it('Markdown: renders, even with raw HTML allowed, to no active content', () => {
    const out = exportDocument(hostileDoc(), 'md').body;
    expect(out).not.toMatch(/\]\(\s*javascript:/i);
    const rendered = permissiveMarkdown().render(out);
    expect(markupProblems(rendered, MARKDOWN_TAGS)).toEqual([]);
    expect(rendered).not.toMatch(/javascript:/i);
    // The words are all still there, as text.
    expect(rendered).toContain('click-me&lt;img src=x onerror=&quot;window.__pwned=3&quot;&gt;');
    expect(rendered).toContain('&lt;/title&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
  });

  it('Markdown: the title is one heading line, escaped', () => {
    const doc = new Y.Doc();
    doc.getText('title').insert(0, '# x\n\n<script>window.__pwned=1</script> [a](javascript:b)');
    const out = exportDocument(doc, 'md').body;
    expect(out.split('\n')[0]).toBe('# \\# x &lt;script&gt;window.\\_\\_pwned=1&lt;/script&gt; \\[a\\]\\(javascript:b\\)');
    expect(permissiveMarkdown().render(out)).toBe('<h1># x &lt;script&gt;window.__pwned=1&lt;/script&gt; [a](javascript:b)</h1>\n');
  });

  it('HTML: no active content in the head, heading or body', () => {
    const out = exportDocument(hostileDoc(), 'html').body;
    expect(markupProblems(out, HTML_EXPORT_TAGS)).toEqual([]);
    expect(out).not.toMatch(/javascript:/i);
    expect(out).toContain('<title>&#60;/title&#62;&#60;script&#62;window.__pwned=1&#60;/script&#62;</title>');
    expect(out).toContain('<p> click-me&#60;img src=x onerror=&#34;window.__pwned=3&#34;&#62;</p>');
  });

  it('plain text: the words as written, never a link target', () => {
    const out = exportDocument(hostileDoc(), 'txt').body;
    expect(out.startsWith('</title><script>window.__pwned=1</script>\n\n click-me<img src=x onerror="window.__pwned=3">\n')).toBe(true);
    expect(out).not.toMatch(/javascript:/i);
  });

  it('applies the editor link policy: allowed links kept (normalised), others become their text', () => {
    const doc = new Y.Doc();
    const body = doc.getXmlFragment('prosemirror');
    paragraph(body, (t) => {
      t.insert(0, 'web', { link: { href: 'https://example.com/a b(c)' } });
      t.insert(t.length, ' mail', { link: { href: 'mailto:me@example.com' } });
      t.insert(t.length, ' data', { link: { href: 'data:text/html,<script>alert(1)</script>' } });
      t.insert(t.length, ' relative', { link: { href: '/d/abc' } });
      t.insert(t.length, ' vb', { link: { href: 'vbscript:msgbox(1)' } });
    });
    const md = exportDocument(doc, 'md').body;
    expect(md).toBe('[web](https://example.com/a%20b%28c%29)[ mail](mailto:me@example.com) data relative vb\n');
    expect(permissiveMarkdown().render(md)).toBe(
      '<p><a href="https://example.com/a%20b%28c%29">web</a><a href="mailto:me@example.com"> mail</a> data relative vb</p>\n',
    );
    const html = exportDocument(doc, 'html').body;
    expect(html).toContain('<p><a href="https://example.com/a%20b(c)" rel="noopener noreferrer nofollow" target="_blank">web</a>');
    expect(html).toContain('</a> data relative vb</p>');
    expect(html).not.toContain('href="#"');
  });

  it('Markdown: text keeps its exact characters through a renderer', () => {
    // CommonMark as written: a linkifier would take some of these into URLs, as text.
    const md = new MarkdownIt({ html: true });
    const samples = [
      '<b>bold?</b> &amp; &lt; *not em* _nor_ `code` [link](https://x.y) ![img](x.png) | a | b | ~~s~~ \\ {: onclick="x"}',
      '# not a heading',
      '- not a list',
      '+ not a list',
      '* not a list',
      '1. not a list',
      '2) not a list',
      '> not a quote',
      '=== not a setext line',
      '--- not a rule',
      '    not code',
      '``` not a fence',
      '~~~ not a fence',
      '<!-- not a comment -->',
      'ends with a hash #',
      'trailing backslash \\',
      'http://example.com/<img src=x>',
      '&#106;avascript:alert(1)',
    ];
    for (const sample of samples) {
      const doc = new Y.Doc();
      paragraph(doc.getXmlFragment('prosemirror'), (t) => t.insert(0, sample));
      const rendered = md.render(exportDocument(doc, 'md').body);
      const text = decodeEntities(rendered.replace(/<[^>]*>/g, '')).trim();
      expect(text, `${sample} → ${rendered}`).toBe(sample.trim());
      expect(rendered.startsWith('<p>'), `${sample} → ${rendered}`).toBe(true);
    }
  });

  it('Markdown: code spans and blocks cannot be closed by their own content', () => {
    const doc = new Y.Doc();
    const body = doc.getXmlFragment('prosemirror');
    paragraph(body, (t) => t.insert(0, 'a ` b `` c', { code: {} }));
    const block = new Y.XmlElement('code_block');
    body.push([block]);
    block.push([new Y.XmlText('```\n<script>x</script>\n````\nend')]);
    const rendered = permissiveMarkdown().render(exportDocument(doc, 'md').body);
    expect(rendered).toBe('<p><code>a ` b `` c</code></p>\n<pre><code>```\n&lt;script&gt;x&lt;/script&gt;\n````\nend\n</code></pre>\n');
  });

  it('no format carries active content, over seeded random hostile documents', () => {
    const random = seededRandom(15);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = ['<', '>', '&', '`', '``', '```', '*', '_', '[', ']', '(', ')', '!', '#', '|', '\\', '-', '+', '1.', '2)', '=', '~', ' ', '    ', '\n', '\n\n', '\r',
      '"', "'", 'img', 'script', ' src=x onerror=alert(1)', 'javascript:', 'http://a.b/', 'mailto:', '<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '<a href="javascript:x">', 'text'];
    const hrefs = ['https://example.com/', 'http://a.b/c?d=e&f=<g>', 'mailto:a@b.c', 'javascript:alert(1)', ' javascript:alert(1)', 'data:text/html,<script>', 'https://x.y/)](javascript:alert(1))', 'mailto:x><img src=x onerror=alert(1)>'];
    // Often a URL's end: linkifiers that scan the source reach into whatever follows one.
    const text = () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => (random() < 0.15 ? 'http://a.b/' : pick(pieces))).join('');
    const marks = (): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (random() < 0.3) out.em = {};
      if (random() < 0.3) out.strong = {};
      if (random() < 0.3) out.code = {};
      if (random() < 0.4) out.link = { href: pick(hrefs), title: random() < 0.3 ? text() : null };
      return out;
    };
    const fillInline = (el: Y.XmlElement) => {
      const t = new Y.XmlText();
      el.push([t]);
      for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i++) {
        t.insert(t.length, text(), marks());
        if (random() < 0.2) el.push([new Y.XmlElement('hard_break'), new Y.XmlText(text())]);
      }
    };
    const block = (parent: Y.XmlFragment | Y.XmlElement, depth: number): void => {
      const kind = pick(['paragraph', 'heading', 'code_block', 'blockquote', 'bullet_list', 'ordered_list', 'horizontal_rule', 'script', 'img']);
      const el = new Y.XmlElement(kind);
      parent.push([el]);
      if (kind === 'heading') el.setAttribute('level', pick([1, 2, 3, 7, '<script>']) as string);
      if (kind === 'code_block') el.push([new Y.XmlText(text())]);
      else if (kind === 'blockquote' && depth < 3) block(el, depth + 1);
      else if ((kind === 'bullet_list' || kind === 'ordered_list') && depth < 3) {
        const item = new Y.XmlElement('list_item');
        el.push([item]);
        block(item, depth + 1);
      } else if (kind !== 'horizontal_rule') fillInline(el);
    };
    for (let run = 0; run < 150; run++) {
      const doc = new Y.Doc();
      doc.getText('title').insert(0, text());
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) block(doc.getXmlFragment('prosemirror'), 0);
      const md = exportDocument(doc, 'md').body;
      const rendered = permissiveMarkdown().render(md);
      expect(markupProblems(rendered, MARKDOWN_TAGS), `run ${run}:\n${md}\n→\n${rendered}`).toEqual([]);
      const html = exportDocument(doc, 'html').body;
      expect(markupProblems(html, HTML_EXPORT_TAGS), `run ${run}:\n${html}`).toEqual([]);
    }
  });
});

function decodeEntities(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}
