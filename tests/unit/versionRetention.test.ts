/** Retention of versions (issue #16, item 2): what versionsToRemove keeps as versions age. */
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, versionsToRemove } from '../../server/history/retention';
import type { VersionRecord } from '../../lib/history/versionModel';

const NOW = Date.UTC(2026, 11, 1, 12);

function version(id: string, createdAt: number, extra: Partial<VersionRecord> = {}): VersionRecord {
  return { id, kind: 'auto', name: null, createdAt, region: null, authors: [], recorder: 'r', base: null, stateVector: new Uint8Array([0]), update: new Uint8Array([0, 0]), ...extra };
}

describe('version retention', () => {
  it('keeps every automatic version of the last day', () => {
    // One every 20 minutes for the last 23 hours.
    const records = Array.from({ length: 69 }, (_, i) => version(`v${i}`, NOW - (i * 20 + 1) * 60 * 1000));
    expect(versionsToRemove(records, NOW)).toEqual([]);
  });

  it('thins older automatic versions to the first of each hour, then of each day, and keeps named ones', () => {
    const twoDaysAgo = Math.floor((NOW - 2 * DAY_MS) / HOUR_MS) * HOUR_MS;
    const monthsAgo = Math.floor((NOW - 60 * DAY_MS) / DAY_MS) * DAY_MS;
    const records = [
      version('hour-first', twoDaysAgo + 60_000),
      version('hour-second', twoDaysAgo + 120_000),
      version('next-hour', twoDaysAgo + HOUR_MS + 1),
      version('named-old', twoDaysAgo + 180_000, { kind: 'named', name: 'Keep me' }),
      version('day-first', monthsAgo + 5 * HOUR_MS),
      version('day-later-hour', monthsAgo + 9 * HOUR_MS),
    ];
    expect(versionsToRemove(records, NOW).sort()).toEqual(['day-later-hour', 'hour-second']);
  });

  it('never removes a version that a kept version\'s content is built on', () => {
    const old = NOW - 3 * DAY_MS;
    const hour = Math.floor(old / HOUR_MS) * HOUR_MS;
    const records = [
      version('keyframe', hour + 1000),
      version('diff-1', hour + 2000, { base: 'keyframe' }),
      version('diff-2', hour + 3000, { base: 'diff-1' }),
      // Recorded elsewhere with a clock behind: first of its hour, yet built on diff-2.
      version('early-clock', hour + 500, { base: 'diff-2' }),
    ];
    expect(versionsToRemove(records, NOW)).toEqual([]);
  });

  it('removes the same versions whatever order the records come in', () => {
    const base = NOW - 40 * DAY_MS;
    const records = Array.from({ length: 30 }, (_, i) => version(`v${String(i).padStart(2, '0')}`, base + i * 3 * HOUR_MS));
    const forward = versionsToRemove(records, NOW).sort();
    const backward = versionsToRemove([...records].reverse(), NOW).sort();
    expect(forward).toEqual(backward);
    // One kept per day: 30 versions three hours apart span 4 days.
    expect(records.length - forward.length).toBe(new Set(records.map((r) => Math.floor(r.createdAt / DAY_MS))).size);
  });
});
