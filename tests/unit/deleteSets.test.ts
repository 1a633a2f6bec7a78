/** Version diffs that carry only the deletions since their base (lib/history/deleteSets.ts). */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decodeDeletedRanges, deletedRanges, diffSince, encodeDeletedRanges, rangesContain, subtractRanges } from '../../lib/history/deleteSets';

describe('delete sets of version diffs', () => {
  it('subtracts covered ranges, keeping the parts left over', () => {
    const now = new Map([[1, [{ clock: 0, len: 10 }, { clock: 20, len: 5 }]], [2, [{ clock: 3, len: 2 }]]]);
    const before = new Map([[1, [{ clock: 2, len: 3 }, { clock: 7, len: 1 }, { clock: 20, len: 5 }]]]);
    expect(subtractRanges(now, before)).toEqual(new Map([[1, [{ clock: 0, len: 2 }, { clock: 5, len: 2 }, { clock: 8, len: 2 }]], [2, [{ clock: 3, len: 2 }]]]));
  });

  it('a keyframe and a chain of such diffs rebuild every version exactly', () => {
    const doc = new Y.Doc();
    const text = doc.getText('t');
    const random = (() => { let s = 7; return () => (s = (s * 16807) % 2147483647) / 2147483647; })();
    let base = { sv: Y.encodeStateVector(doc), ds: deletedRanges(doc) };
    const chain: Uint8Array[] = [Y.encodeStateAsUpdate(doc)];
    for (let version = 0; version < 20; version++) {
      for (let i = 0; i < 50; i++) {
        if (text.length > 5 && random() < 0.4) text.delete(Math.floor(random() * (text.length - 3)), 1 + Math.floor(random() * 3));
        else text.insert(Math.floor(random() * (text.length + 1)), 'abc'.slice(0, 1 + Math.floor(random() * 3)));
      }
      const diff = diffSince(doc, base.sv, base.ds);
      expect(diff).not.toBeNull();
      expect(diff!.byteLength).toBeLessThan(Y.encodeStateAsUpdate(doc, base.sv).byteLength + 1);
      chain.push(diff!);
      const rebuilt = new Y.Doc();
      Y.applyUpdate(rebuilt, Y.mergeUpdates(chain));
      expect(rebuilt.getText('t').toString()).toBe(text.toString());
      expect(Y.encodeStateVector(rebuilt)).toEqual(Y.encodeStateVector(doc));
      base = { sv: Y.encodeStateVector(doc), ds: deletedRanges(doc) };
    }
  });

  it('a diff without the older deletions leaves them out (so the subtraction is what makes it smaller)', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello world');
    doc.getText('t').delete(0, 6);
    const base = { sv: Y.encodeStateVector(doc), ds: deletedRanges(doc) };
    doc.getText('t').insert(5, '!');
    const whole = Y.encodeStateAsUpdate(doc, base.sv);
    expect(diffSince(doc, base.sv, base.ds)!.byteLength).toBeLessThan(whole.byteLength);
  });

  it('reads back what it encodes, finds every deleted clock and no other, and refuses bytes it did not write', () => {
    const ranges = new Map([[5, [{ clock: 0, len: 2 }, { clock: 10, len: 3 }]], [9, [{ clock: 4, len: 1 }]]]);
    const decoded = decodeDeletedRanges(encodeDeletedRanges(ranges));
    expect(decoded).toEqual(ranges);
    const hits = [...Array(15).keys()].filter((clock) => rangesContain(decoded, 5, clock));
    expect(hits).toEqual([0, 1, 10, 11, 12]);
    expect(rangesContain(decoded, 9, 4)).toBe(true);
    expect(rangesContain(decoded, 7, 0)).toBe(false);
    expect(() => decodeDeletedRanges(new Uint8Array([2, 5]))).toThrow(RangeError);
    expect(() => decodeDeletedRanges(new Uint8Array([0, 1]))).toThrow(RangeError);
  });
});
