/**
 * DocumentSaver's write delay: a document's updates go to storage together, at most
 * writeDelayMs after the first of them, in the turn of a later update when one comes, and at
 * once when someone waits for the saver to be idle.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { DocumentSaver, type SaverOptions } from '../../server/relay/DocumentSaver';
import { newClientOrigin } from '../../server/relay/origins';
import { Metrics } from '../../server/metrics';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { newDocId } from '../../lib/ids';
import { GatedStore } from '../support/gatedStore';

const log = pino({ level: 'silent' });
const origin = newClientOrigin();

class RecordingStore extends MemoryStore {
  /** One entry per append: how many updates, and when (fake performance.now()). */
  readonly appends: { updates: number; at: number }[] = [];
  override async append(docId: string, updates: Uint8Array[]): Promise<number> {
    this.appends.push({ updates: updates.length, at: performance.now() });
    return super.append(docId, updates);
  }
}

function saver(options: Partial<SaverOptions> = {}) {
  const store = new RecordingStore();
  const docId = newDocId();
  const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
  const s = new DocumentSaver(
    docId,
    store,
    { snapshot: () => new Uint8Array([0, 0]) },
    log,
    metrics,
    { lastSeq: 0, entries: 0, bytes: 0 },
    { compactAfterUpdates: 1_000, compactAfterBytes: 1 << 30, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 50, ...options },
  );
  return { saver: s, store };
}

const update = (n: number) => new Uint8Array([1, n]);

afterEach(() => {
  vi.useRealTimers();
});

describe('DocumentSaver write delay', () => {
  it('writes the updates of the delay window in one transaction, writeDelayMs after the first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const { saver: s, store } = saver();
    const start = performance.now();
    s.enqueue(update(1), origin);
    await vi.advanceTimersByTimeAsync(20);
    s.enqueue(update(2), origin);
    await vi.advanceTimersByTimeAsync(20);
    s.enqueue(update(3), origin);
    await vi.advanceTimersByTimeAsync(9);
    expect(store.appends).toEqual([]);
    expect(s.idle).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(store.appends.map((a) => a.updates)).toEqual([3]);
    expect(store.appends[0]!.at - start).toBeGreaterThanOrEqual(50);
    expect(store.appends[0]!.at - start).toBeLessThanOrEqual(51);
    expect(s.idle).toBe(true);
  });

  it('writes in the turn of a later update once the first has waited long enough, without its timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const { saver: s, store } = saver();
    s.enqueue(update(1), origin);
    // Time passes without the timer getting to run (a busy event loop), then another update arrives.
    const clock = vi.spyOn(performance, 'now').mockReturnValue(performance.now() + 60);
    s.enqueue(update(2), origin);
    await vi.advanceTimersByTimeAsync(0); // the end of this turn
    expect(store.appends.map((a) => a.updates)).toEqual([2]);
    clock.mockRestore();
  });

  it('writes at once when someone waits for it to be idle', async () => {
    const { saver: s, store } = saver({ writeDelayMs: 60_000 });
    s.enqueue(update(1), origin);
    s.enqueue(update(2), origin);
    const waited = performance.now();
    await s.whenIdle();
    expect(performance.now() - waited).toBeLessThan(1_000);
    expect(store.appends.map((a) => a.updates)).toEqual([2]);
  });

  it('without a delay, writes at the end of the turn', async () => {
    const { saver: s, store } = saver({ writeDelayMs: 0 });
    s.enqueue(update(1), origin);
    expect(store.appends).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.appends.map((a) => a.updates)).toEqual([1]);
  });

  it('writes nothing after it is stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const { saver: s, store } = saver();
    s.enqueue(update(1), origin);
    s.stop();
    await vi.advanceTimersByTimeAsync(200);
    expect(store.appends).toEqual([]);
  });
});

describe('DocumentSaver and a deleted document', () => {
  it('treats DocumentDeletedError as final: no retries, nothing pending, idle, and the owner is told once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const store = new GatedStore();
    const docId = newDocId();
    const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
    let deletions = 0;
    const s = new DocumentSaver(
      docId,
      store,
      { snapshot: () => new Uint8Array([0, 0]), onDeleted: () => deletions++ },
      log,
      metrics,
      { lastSeq: 0, entries: 0, bytes: 0 },
      { compactAfterUpdates: 1_000, compactAfterBytes: 1 << 30, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 0 },
    );
    let stored = false;
    s.enqueue(update(1), origin);
    s.afterQueuedStored(() => (stored = true));
    await store.deleteDocument(docId); // deleted elsewhere, after the update was queued
    let idle = false;
    void s.whenIdle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(store.appends.started).toBe(1);
    expect(deletions).toBe(1);
    expect(s.documentDeleted).toBe(true);
    expect(idle).toBe(true); // a saver that retried would never be idle (so unload and shutdown would wait forever)
    // A retrying saver would have tried again within 5–20 ms each time; a minute of (fake) time shows it does not.
    s.enqueue(update(2), origin);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.appends.started).toBe(1);
    expect(s.idle).toBe(true);
    expect(stored).toBe(false); // never acknowledged as stored
  });

  it('keeps retrying other failures (the control)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    const store = new GatedStore();
    store.appends.failure = new Error('disk unavailable (simulated)');
    const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
    const s = new DocumentSaver(
      newDocId(),
      store,
      { snapshot: () => new Uint8Array([0, 0]) },
      log,
      metrics,
      { lastSeq: 0, entries: 0, bytes: 0 },
      { compactAfterUpdates: 1_000, compactAfterBytes: 1 << 30, retryDelayMs: 5, maxRetryDelayMs: 20, writeDelayMs: 0 },
    );
    s.enqueue(update(1), origin);
    await vi.advanceTimersByTimeAsync(200);
    expect(store.appends.failed).toBeGreaterThan(3);
    expect(s.idle).toBe(false);
    store.appends.failure = null;
    await vi.advanceTimersByTimeAsync(50);
    expect(s.idle).toBe(true);
  });
});
