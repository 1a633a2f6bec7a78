/**
 * ReconcileSchedule's passes over storage: a timer pass while the bus is up spreads its groups of
 * documents over half its interval (read in one burst, it stalled every socket of the instance),
 * a pass after a loss reads everything at once, and a loss asked for mid-pass does not wait for
 * the spreading pass to end.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReconcileSchedule } from '../../server/instances/ReconcileSchedule';
import type { StorageReconciler } from '../../server/instances/StorageReconciler';
import { TrackedDocument } from '../../server/instances/TrackedDocument';

/** Records when each document was read and with which "loss likely" flag. */
function recordingReconciler() {
  const reads: { docId: string; at: number; lossLikely: boolean }[] = [];
  const reconciler = {
    async entries(tracked: TrackedDocument, lossLikely = true) {
      reads.push({ docId: tracked.docId, at: performance.now(), lossLikely });
    },
    async access() {},
  } as unknown as StorageReconciler;
  return { reconciler, reads };
}

/** A schedule over 24 documents (3 groups) whose timer passes come every 1.2 s, on fake timers. */
function scheduleOf24() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
  const { reconciler, reads } = recordingReconciler();
  const docs = Array.from({ length: 24 }, (_, i) => new TrackedDocument(`doc-${i}`));
  return { schedule: new ReconcileSchedule(reconciler, () => docs, 1_200), reads };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ReconcileSchedule passes', () => {
  it('spreads a timer pass over half the interval, 8 documents at a time', async () => {
    const { schedule, reads } = scheduleOf24();
    const start = performance.now();
    const pass = schedule.all(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(8);
    // 3 groups over 600 ms: the next group 200 ms later.
    await vi.advanceTimersByTimeAsync(199);
    expect(reads).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toHaveLength(16);
    await vi.advanceTimersByTimeAsync(200);
    await pass;
    expect(reads).toHaveLength(24);
    expect(reads.at(-1)!.at - start).toBe(400);
    expect(reads.every((r) => !r.lossLikely)).toBe(true);
    schedule.stop();
  });

  it('reads every document at once after a loss', async () => {
    const { schedule, reads } = scheduleOf24();
    const start = performance.now();
    const pass = schedule.all(true);
    await vi.runAllTimersAsync();
    await pass;
    expect(reads).toHaveLength(24);
    expect(reads.at(-1)!.at - start).toBe(0);
    expect(reads.every((r) => r.lossLikely)).toBe(true);
    schedule.stop();
  });

  it('cuts a spreading pass short when a loss is reported, and reads everything at once', async () => {
    const { schedule, reads } = scheduleOf24();
    const timerPass = schedule.all(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toHaveLength(8);
    const lossAt = performance.now();
    void schedule.all(true);
    // The spreading pass stops at its next group, and the loss pass reads all 24 then, together.
    await vi.advanceTimersByTimeAsync(200);
    await vi.runAllTimersAsync();
    await timerPass;
    const afterLoss = reads.slice(8);
    expect(afterLoss).toHaveLength(24);
    expect(afterLoss.every((r) => r.lossLikely)).toBe(true);
    // Together: the fake setImmediate moves the clock by a millisecond; a spread pass would take 400 ms more.
    const times = afterLoss.map((r) => r.at - lossAt);
    expect(Math.max(...times) - Math.min(...times)).toBeLessThanOrEqual(5);
    expect(Math.max(...times)).toBeLessThanOrEqual(205);
    schedule.stop();
  });
});
