import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { prosemirrorToYXmlFragment } from 'y-prosemirror';
import { schema } from '../../lib/editor/schema';
import { exportDocument } from '../../lib/documents/exportDocument';

function sampleDoc(title: string): Y.Doc {
  const s = schema;
  const pm = s.node('doc', null, [
    s.node('heading', { level: 2 }, [s.text('Plan')]),
    s.node('paragraph', null, [
      s.text('Read '),
      s.text('this', [s.marks.strong!.create()]),
      s.text(' at '),
      s.text('the site', [s.marks.link!.create({ href: 'https://example.com/' })]),
      s.text(' <now> & '),
      s.text('x()', [s.marks.code!.create()]),
    ]),
    s.node('bullet_list', null, [s.node('list_item', null, [s.node('paragraph', null, [s.text('first')])])]),
    s.node('paragraph', null, [s.text('evil', [s.marks.link!.create({ href: 'javascript:alert(1)' })])]),
  ]);
  const doc = new Y.Doc();
  prosemirrorToYXmlFragment(pm, doc.getXmlFragment('prosemirror'));
  doc.getText('title').insert(0, title);
  return doc;
}

describe('document export', () => {
  it('exports plain text with the title first', () => {
    const out = exportDocument(sampleDoc('Notes'), 'txt');
    expect(out.body).toBe('Notes\n\nPlan\nRead this at the site <now> & x()\nfirst\nevil\n');
    expect(out.fileName).toBe('Notes.txt');
  });

  it('exports Markdown', () => {
    const out = exportDocument(sampleDoc('Notes'), 'md');
    expect(out.body).toContain('# Notes\n\n## Plan\n\nRead **this** at [the site](https://example.com/)');
    expect(out.body).toContain('`x()`');
    expect(out.body).toContain('* first');
  });

  it('exports escaped HTML and neutralises unsafe links', () => {
    const out = exportDocument(sampleDoc('<script>alert(1)</script>'), 'html');
    expect(out.contentType).toMatch(/^text\/html/);
    expect(out.body).toContain('<title>&#60;script&#62;alert(1)&#60;/script&#62;</title>');
    expect(out.body).not.toContain('<script>');
    expect(out.body).toContain('<h2>Plan</h2>');
    expect(out.body).toContain('<strong>this</strong>');
    expect(out.body).toContain(' &#60;now&#62; &#38; ');
    expect(out.body).toContain('href="https://example.com/"');
    expect(out.body).not.toContain('javascript:');
    expect(out.body).toContain('<ul><li><p>first</p></li></ul>');
  });

  it('names untitled documents and strips unsafe file-name characters', () => {
    expect(exportDocument(new Y.Doc(), 'md').fileName).toBe('Untitled document.md');
    expect(exportDocument(sampleDoc('a/b:c?'), 'txt').fileName).toBe('a b c.txt');
  });
});
