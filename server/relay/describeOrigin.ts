import { isChangeOrigin, type ChangeOrigin } from './origins';

/** Where a remote change came from, for logs. */
export function describeRemote(origin: ChangeOrigin): string {
  if (origin.kind === 'peer') return `region ${origin.peerId}`;
  if (origin.kind === 'instance') return `instance ${origin.instanceId}`;
  return origin.kind;
}

/** Any transaction origin, tagged or not, for logs. */
export function describeOrigin(origin: unknown): string {
  if (isChangeOrigin(origin)) return origin.kind;
  if (origin === null || origin === undefined) return 'none';
  return typeof origin === 'object' ? (origin.constructor?.name ?? 'object') : typeof origin;
}
