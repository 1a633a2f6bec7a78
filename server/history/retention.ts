/**
 * Which versions retention removes (issue #16, item 2), as a pure function of the records and the
 * time, so every instance and region that runs it over the same records removes the same ones.
 *
 * Policy: named versions are kept until someone deletes them. Automatic versions: every one of
 * the last 24 hours; then the first of each hour for 30 days; then the first of each day. Space
 * so grows with the hours and days a document was edited in, not with its edits.
 *
 * A version's content may be a diff from an earlier version (its `base`); whatever is kept keeps
 * its whole chain, so removal never breaks one (the recorder starts a new keyframe every hour,
 * so the versions kept after a day are keyframes and their chains cost nothing extra).
 */
import type { VersionRecord } from '../../lib/history/versionModel';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
/** Every automatic version younger than this is kept. */
export const KEEP_ALL_MS = DAY_MS;
/** Then one per hour until this age; one per day after. */
export const KEEP_HOURLY_MS = 30 * DAY_MS;

/** IDs of the versions retention removes now, from `records` (any order). */
export function versionsToRemove(records: readonly VersionRecord[], now: number): string[] {
  const byId = new Map(records.map((record) => [record.id, record]));
  const oldestFirst = [...records].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const kept = new Set<string>();
  const bucketsTaken = new Set<string>();
  for (const record of oldestFirst) {
    const age = now - record.createdAt;
    if (record.kind === 'named' || age < KEEP_ALL_MS) {
      keep(record);
      continue;
    }
    const bucket = age < KEEP_HOURLY_MS ? `h${Math.floor(record.createdAt / HOUR_MS)}` : `d${Math.floor(record.createdAt / DAY_MS)}`;
    if (!bucketsTaken.has(bucket)) {
      bucketsTaken.add(bucket);
      keep(record);
    }
  }
  return records.filter((record) => !kept.has(record.id)).map((record) => record.id);

  /** Keeps `record` and every version its content is built on. */
  function keep(record: VersionRecord): void {
    for (let link: VersionRecord | undefined = record; link && !kept.has(link.id); link = link.base === null ? undefined : byId.get(link.base)) {
      kept.add(link.id);
    }
  }
}
