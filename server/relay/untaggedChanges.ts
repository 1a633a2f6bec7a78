/**
 * An untagged change: something transacted on a room's document without going through
 * Room.change (an exporter "repairing" the body, a library call). It is never relayed unstored —
 * deletions do not show in state vectors, so clients and storage would differ for good — but it
 * is reported loudly, and in tests (policy 'throw') it fails the run.
 */
import { describeOrigin } from './describeOrigin';
import { isChangeOrigin, SERVER_ORIGIN, type ChangeOrigin } from './origins';
import { DEFAULT_UNTAGGED_CHANGE_POLICY, type RoomDeps } from './RoomDeps';

/** Logs and counts it; returns the origin to store and relay it as (the server's own unless it names a live one). */
export function reportUntaggedChange(deps: RoomDeps, docId: string, origin: unknown): ChangeOrigin {
  const err = new Error(`an untagged change (origin ${describeOrigin(origin)}) reached document ${docId}`);
  deps.log.error({ err, docId }, 'untagged change: storing and relaying it as the server\'s own');
  deps.metrics.untaggedChange();
  if ((deps.untaggedChanges ?? DEFAULT_UNTAGGED_CHANGE_POLICY) === 'throw') {
    // After it was forwarded (the caller forwards it in this task): the document stays consistent.
    queueMicrotask(() => {
      throw err;
    });
  }
  return isChangeOrigin(origin) && origin.kind !== 'storage' ? origin : SERVER_ORIGIN;
}
