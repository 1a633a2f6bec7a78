/**
 * The instances' read of storage (StorageReconciler) checks the entries it read one by one
 * (holdsEvery) before merging anything: it must answer as holdsAll of their merge does, for
 * structs, deletions and byte-identical copies (every instance storing the same change). A pure
 * test of server/instances/documentCoverage.ts, beside the instance tests it serves.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { holdsAll, holdsEvery } from '../../server/instances/documentCoverage';

/** The updates `edit` makes on a replica of `base`, one per transaction. */
function updatesOf(base: Y.Doc, edit: (doc: Y.Doc) => void): Uint8Array[] {
  const replica = new Y.Doc();
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(base));
  const updates: Uint8Array[] = [];
  replica.on('update', (u: Uint8Array) => updates.push(u));
  edit(replica);
  return updates;
}

describe('does a document hold every one of the entries read from storage', () => {
  it('answers as holdsAll of their merge: structs, deletions, copies', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'hello world');
    const entries = updatesOf(doc, (d) => {
      d.getText('t').insert(0, 'a');
      d.getText('t').delete(2, 3);
      d.getText('t').insert(1, 'b');
    });
    expect(entries).toHaveLength(3);
    // Each change stored by three instances: three copies of each entry.
    const read = [...entries, ...entries.map((u) => u.slice()), ...entries.map((u) => u.slice())];
    const agree = () => {
      const answer = holdsEvery(doc, read);
      expect(answer).toBe(holdsAll(doc, Y.mergeUpdates(read)));
      return answer;
    };
    expect(agree()).toBe(false);
    // The insertions without the deletion: the state vector is complete, the deletion missing.
    Y.applyUpdate(doc, entries[0]!);
    Y.applyUpdate(doc, entries[2]!);
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVectorFromUpdate(Y.mergeUpdates([Y.encodeStateAsUpdate(doc), ...entries])));
    expect(agree()).toBe(false);
    Y.applyUpdate(doc, entries[1]!);
    expect(agree()).toBe(true);
    expect(holdsEvery(doc, [])).toBe(true);
  });

  it('a snapshot among the entries (another instance compacted) is checked like any entry', () => {
    const writer = new Y.Doc();
    writer.getText('t').insert(0, 'one two three');
    writer.getText('t').delete(0, 4);
    const snapshot = Y.encodeStateAsUpdate(writer);
    const later = updatesOf(writer, (d) => d.getText('t').insert(0, 'x'));
    const reader = new Y.Doc();
    expect(holdsEvery(reader, [snapshot, ...later])).toBe(false);
    Y.applyUpdate(reader, snapshot);
    expect(holdsEvery(reader, [snapshot, ...later])).toBe(false);
    Y.applyUpdate(reader, later[0]!);
    expect(holdsEvery(reader, [snapshot, ...later])).toBe(true);
  });
});
