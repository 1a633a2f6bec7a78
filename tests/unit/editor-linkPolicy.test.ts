import { describe, expect, it } from 'vitest';
import { safeLinkHref } from '../../lib/editor/linkPolicy';
import { schema } from '../../lib/editor/schema';

describe('safeLinkHref', () => {
  it('accepts absolute http, https and mailto links, normalised', () => {
    expect(safeLinkHref('https://example.com')).toBe('https://example.com/');
    expect(safeLinkHref('  http://example.com/a?b=c#d ')).toBe('http://example.com/a?b=c#d');
    expect(safeLinkHref('HTTPS://EXAMPLE.com/x')).toBe('https://example.com/x');
    expect(safeLinkHref('mailto:ada@example.com')).toBe('mailto:ada@example.com');
  });

  it('refuses script and data URLs in any spelling', () => {
    for (const href of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox',
      'file:///etc/passwd',
      'blob:https://example.com/uuid',
    ]) {
      expect(safeLinkHref(href), href).toBeNull();
    }
  });

  it('refuses relative, empty and oversized links', () => {
    expect(safeLinkHref('')).toBeNull();
    expect(safeLinkHref('   ')).toBeNull();
    expect(safeLinkHref('/d/abc')).toBeNull();
    expect(safeLinkHref('example.com')).toBeNull();
    expect(safeLinkHref(`https://example.com/${'a'.repeat(3000)}`)).toBeNull();
  });
});

describe('link mark rendering', () => {
  it('re-checks the href on render, so a hostile peer cannot plant a script link', () => {
    const link = schema.marks.link!;
    const render = (href: string) => {
      const spec = link.spec.toDOM!(link.create({ href }), true) as [string, Record<string, string>, number];
      return spec[1];
    };
    expect(render('javascript:alert(1)').href).toBe('#');
    expect(render('https://example.com').href).toBe('https://example.com/');
    expect(render('https://example.com').rel).toContain('noopener');
  });
});
