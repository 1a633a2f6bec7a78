import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { covers, decodeState, encodeState, EMPTY_STATE, stateVectorOf } from '../../server/replication/stateCoverage';

function docWith(text: string, clientID: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  doc.getText('t').insert(0, text);
  return doc;
}

function copy(doc: Y.Doc): Y.Doc {
  const other = new Y.Doc();
  Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
  return other;
}

const state = (doc: Y.Doc) => decodeState(encodeState(doc));

describe('stateCoverage', () => {
  it('a replica covers itself and anything older; an empty one covers only empty', () => {
    const a = docWith('hello', 1);
    const b = copy(a);
    expect(covers(state(b), state(a))).toBe(true);
    b.getText('t').insert(5, ' world');
    expect(covers(state(b), state(a))).toBe(true);
    expect(covers(state(a), state(b))).toBe(false);
    expect(covers(decodeState(EMPTY_STATE), state(a))).toBe(false);
    expect(covers(state(a), decodeState(EMPTY_STATE))).toBe(true);
  });

  it('an equal state vector does not cover a deletion the holder lacks', () => {
    const a = docWith('hello world', 1);
    const b = copy(a);
    a.getText('t').delete(2, 3);
    expect(stateVectorOf(state(b))).toEqual(stateVectorOf(state(a)));
    expect(covers(state(b), state(a))).toBe(false);
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, stateVectorOf(state(b))));
    expect(covers(state(b), state(a))).toBe(true);
  });

  it('deletions split across several ranges are covered only when every part is', () => {
    const a = docWith('abcdefghij', 1);
    const b = copy(a);
    a.getText('t').delete(1, 1); // b
    a.getText('t').delete(3, 2); // e f
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    b.getText('t').delete(0, 1); // b also deletes a: its ranges touch and merge
    expect(covers(state(b), state(a))).toBe(true);
    const c = copy(docWith('abcdefghij', 1));
    c.getText('t').delete(1, 1);
    expect(covers(state(c), state(a))).toBe(false); // has b deleted, not e f
  });

  it('concurrent edits on both sides: neither covers the other until they exchanged', () => {
    const a = docWith('base', 1);
    const b = copy(a);
    b.clientID = 2;
    a.getText('t').insert(0, 'A');
    b.getText('t').insert(4, 'B');
    expect(covers(state(a), state(b))).toBe(false);
    expect(covers(state(b), state(a))).toBe(false);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    expect(covers(state(a), state(b))).toBe(true);
  });
});
