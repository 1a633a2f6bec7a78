/** Documents recently opened in this browser, newest first, with the link each was opened with. */
import type { Role } from '../auth/capabilities';
import { isDocId } from '../ids';
import type { KeyValueStorage } from './browserStorage';

export interface RecentDocument {
  id: string;
  title: string;
  /** The capability this browser holds for it (the strongest one seen). */
  token: string;
  role: Role;
  openedAt: number;
}

const KEY = 'concord:recent';
export const MAX_RECENT = 30;
const RANK: Record<Role, number> = { view: 1, edit: 2, owner: 3 };

export function listRecent(storage: KeyValueStorage): RecentDocument[] {
  const raw = storage.getItem(KEY);
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(isRecentDocument).sort((a, b) => b.openedAt - a.openedAt);
  } catch (err) {
    console.warn('concord: ignoring unreadable recent-documents list', err);
    return [];
  }
}

/** Records an opening; keeps the stronger of the stored and the new capability. */
export function rememberDocument(storage: KeyValueStorage, entry: RecentDocument): RecentDocument[] {
  const list = listRecent(storage);
  const existing = list.find((d) => d.id === entry.id);
  const keepOld = existing && RANK[existing.role] > RANK[entry.role];
  const merged: RecentDocument = {
    ...entry,
    token: keepOld ? existing.token : entry.token,
    role: keepOld ? existing.role : entry.role,
    title: entry.title || existing?.title || '',
  };
  const next = [merged, ...list.filter((d) => d.id !== entry.id)].slice(0, MAX_RECENT);
  storage.setItem(KEY, JSON.stringify(next));
  return next;
}

export function updateRecentTitle(storage: KeyValueStorage, id: string, title: string): void {
  const list = listRecent(storage);
  const entry = list.find((d) => d.id === id);
  if (!entry || entry.title === title) return;
  entry.title = title;
  storage.setItem(KEY, JSON.stringify(list));
}

export function forgetDocument(storage: KeyValueStorage, id: string): RecentDocument[] {
  const next = listRecent(storage).filter((d) => d.id !== id);
  storage.setItem(KEY, JSON.stringify(next));
  return next;
}

export function findRecent(storage: KeyValueStorage, id: string): RecentDocument | undefined {
  return listRecent(storage).find((d) => d.id === id);
}

function isRecentDocument(value: unknown): value is RecentDocument {
  const v = value as Partial<RecentDocument> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    isDocId(v.id) &&
    typeof v.title === 'string' &&
    typeof v.token === 'string' &&
    (v.role === 'view' || v.role === 'edit' || v.role === 'owner') &&
    typeof v.openedAt === 'number'
  );
}
