import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { holdsAll } from '../../server/instances/documentCoverage';

/** Every update `edit` makes on a replica of `base`, merged. */
function updateOf(base: Y.Doc, edit: (doc: Y.Doc) => void): Uint8Array {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(base));
  const updates: Uint8Array[] = [];
  replica.on('update', (u: Uint8Array) => updates.push(u));
  edit(replica);
  return Y.mergeUpdates(updates);
}

describe('does a document hold everything of a stored update', () => {
  it('not before its structs arrive, and then yes', () => {
    const doc = new Y.Doc();
    const insert = updateOf(doc, (d) => d.getText('t').insert(0, 'hello'));
    expect(holdsAll(doc, insert)).toBe(false);
    Y.applyUpdate(doc, insert);
    expect(holdsAll(doc, insert)).toBe(true);
  });

  it('not before its deletions are applied, though the state vector is the same', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello world');
    const deletion = updateOf(doc, (d) => d.getText('t').delete(0, 6));
    expect(Y.encodeStateVectorFromUpdate(deletion)).toEqual(new Uint8Array([0]));
    expect(holdsAll(doc, deletion)).toBe(false);
    Y.applyUpdate(doc, deletion);
    expect(holdsAll(doc, deletion)).toBe(true);
    // Collected (gc) content counts as deleted too.
    const later = updateOf(doc, (d) => d.getText('t').delete(0, 5));
    Y.applyUpdate(doc, later);
    expect(holdsAll(doc, Y.mergeUpdates([deletion, later]))).toBe(true);
  });

  it('not when part of a merged update is missing', () => {
    const doc = new Y.Doc();
    const first = updateOf(doc, (d) => d.getText('t').insert(0, 'a'));
    Y.applyUpdate(doc, first);
    const second = updateOf(doc, (d) => d.getText('t').insert(1, 'b'));
    const both = Y.mergeUpdates([first, second]);
    expect(holdsAll(doc, both)).toBe(false);
    Y.applyUpdate(doc, second);
    expect(holdsAll(doc, both)).toBe(true);
  });
});
