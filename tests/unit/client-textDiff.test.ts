import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { diffText, mapIndexThroughDelta, type TextSplice } from '../../lib/client/textDiff';

function apply(text: string, splice: TextSplice | null): string {
  if (!splice) return text;
  return text.slice(0, splice.index) + splice.insert + text.slice(splice.index + splice.deleteCount);
}

describe('diffText', () => {
  it('returns null for equal strings', () => {
    expect(diffText('same', 'same')).toBeNull();
  });

  it('finds a single typed character in the middle', () => {
    expect(diffText('helo', 'hello')).toEqual({ index: 3, deleteCount: 0, insert: 'l' });
  });

  it('finds a deletion and a replacement', () => {
    expect(diffText('hello world', 'hello')).toEqual({ index: 5, deleteCount: 6, insert: '' });
    expect(diffText('plan A', 'plan B')).toEqual({ index: 5, deleteCount: 1, insert: 'B' });
  });

  it('handles empty strings both ways', () => {
    expect(diffText('', 'new')).toEqual({ index: 0, deleteCount: 0, insert: 'new' });
    expect(diffText('old', '')).toEqual({ index: 0, deleteCount: 3, insert: '' });
  });

  it('never splits a surrogate pair', () => {
    const before = 'a😀b';
    const after = 'a😃b'; // same high surrogate, different low one
    const splice = diffText(before, after)!;
    expect(splice).toEqual({ index: 1, deleteCount: 2, insert: '😃' });
    expect(apply(before, splice)).toBe(after);
  });

  it('always produces a splice that turns one string into the other', () => {
    const samples = ['', 'a', 'aa', 'abc', 'abcabc', 'x😀y', '😀😀', 'hello world', 'Quarterly plan v2'];
    for (const a of samples) for (const b of samples) expect(apply(a, diffText(a, b))).toBe(b);
  });

  it('lets two people edit the same title concurrently without losing either edit', () => {
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const put = (doc: Y.Doc, next: string) => {
      const text = doc.getText('title');
      const splice = diffText(text.toString(), next);
      if (!splice) return;
      text.delete(splice.index, splice.deleteCount);
      text.insert(splice.index, splice.insert);
    };
    put(docA, 'Plan');
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA));
    put(docA, 'Big Plan');
    put(docB, 'Plan 2026');
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB));
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA));
    expect(docA.getText('title').toString()).toBe('Big Plan 2026');
    expect(docB.getText('title').toString()).toBe('Big Plan 2026');
  });
});

describe('mapIndexThroughDelta', () => {
  it('moves the caret right for text inserted before it and not for text after it', () => {
    expect(mapIndexThroughDelta(5, [{ insert: 'abc' }])).toBe(8);
    expect(mapIndexThroughDelta(5, [{ retain: 2 }, { insert: 'xy' }])).toBe(7);
    expect(mapIndexThroughDelta(5, [{ retain: 6 }, { insert: 'xy' }])).toBe(5);
  });

  it('keeps the caret before an insertion exactly at it, unless asked otherwise', () => {
    expect(mapIndexThroughDelta(3, [{ retain: 3 }, { insert: 'zz' }])).toBe(3);
    expect(mapIndexThroughDelta(3, [{ retain: 3 }, { insert: 'zz' }], 'after')).toBe(5);
  });

  it('moves the caret left for text deleted before it, clamped at the deletion start', () => {
    expect(mapIndexThroughDelta(5, [{ delete: 2 }])).toBe(3);
    expect(mapIndexThroughDelta(5, [{ retain: 3 }, { delete: 10 }])).toBe(3);
    expect(mapIndexThroughDelta(5, [{ retain: 5 }, { delete: 3 }])).toBe(5);
  });

  it('follows a real Yjs event', () => {
    const doc = new Y.Doc();
    const text = doc.getText('title');
    text.insert(0, 'hello world');
    let mapped = -1;
    text.observe((event) => {
      mapped = mapIndexThroughDelta(6, event.delta as Parameters<typeof mapIndexThroughDelta>[1]);
    });
    doc.transact(() => {
      text.delete(0, 1);
      text.insert(0, 'Oh, h');
    });
    expect(text.toString()).toBe('Oh, hello world');
    expect(mapped).toBe(10);
    expect(text.toString().slice(mapped)).toBe('world');
  });
});
