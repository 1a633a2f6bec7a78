import { describe, expect, it } from 'vitest';
import { DOC_ID_PATTERN, decodePathSegment, describeBadDocId, isDocId, newDocId } from '../../lib/ids';

describe('document IDs', () => {
  it('mints IDs that match the documented pattern', () => {
    for (let i = 0; i < 1000; i++) expect(newDocId()).toMatch(DOC_ID_PATTERN);
  });

  it('mints distinct IDs using the whole alphabet', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newDocId()));
    expect(ids.size).toBe(5000);
    const chars = new Set([...ids].join(''));
    // 110,000 draws from 64 symbols: every symbol appears unless the generator is biased or narrow.
    expect(chars.size).toBe(64);
  });

  it('accepts exactly 22 characters of base64url', () => {
    expect(isDocId('abcdefghijklmnopqrstuv')).toBe(true);
    expect(isDocId('ABC-_0123456789xyzabcd')).toBe(true);
    expect(isDocId('abcdefghijklmnopqrstu')).toBe(false); // 21
    expect(isDocId('abcdefghijklmnopqrstuvw')).toBe(false); // 23
    expect(isDocId('abcdefghijklmnopqrst/.')).toBe(false);
    expect(isDocId('abcdefghijklmnopqrstu\n')).toBe(false);
    expect(isDocId('ünïcödé_ünïcödé_ünïcöd')).toBe(false);
    expect(isDocId('')).toBe(false);
    expect(isDocId(undefined)).toBe(false);
    expect(isDocId(42)).toBe(false);
  });

  it('explains why an ID is refused', () => {
    expect(describeBadDocId('')).toMatch(/empty/);
    expect(describeBadDocId('abc')).toMatch(/22 characters; this one has 3/);
    expect(describeBadDocId('abcdefghijklmnopqrst..')).toMatch(/only contain/);
  });

  it('decodes path segments and reports malformed escapes', () => {
    expect(decodePathSegment('a%20b')).toBe('a b');
    expect(decodePathSegment('%E0%A4%A')).toBeNull();
  });
});
