/** The trace converters themselves must be right before the relay is judged by them. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { concurrentUpdates, loadTrace, sequentialUpdates, type ConcurrentTrace } from '../support/traces';

describe('trace replay', () => {
  it('turns the concurrent friendsforever trace into updates that rebuild endContent', () => {
    const trace = loadTrace<ConcurrentTrace>('friendsforever');
    const updates = concurrentUpdates(trace, 'trace');
    expect(updates.length).toBeGreaterThan(20_000);
    expect(new Set(updates.map((u) => u.agent))).toEqual(new Set([0, 1]));
    const doc = new Y.Doc();
    for (const { update } of updates) Y.applyUpdate(doc, update);
    expect(doc.getText('trace').toString()).toBe(trace.endContent);
  });

  it('turns a sequential trace into one update per transaction', () => {
    const trace = loadTrace('seph-blog1');
    const updates = sequentialUpdates(trace, 'trace');
    expect(updates.length).toBe(trace.txns.length);
    const doc = new Y.Doc();
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update);
    });
    expect(doc.getText('trace').toString()).toBe(trace.endContent);
  });
});
