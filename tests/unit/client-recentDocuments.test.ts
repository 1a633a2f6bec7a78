import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => vi.restoreAllMocks());
import { mintDocument } from '../../lib/auth/capabilities';
import type { KeyValueStorage } from '../../lib/client/browserStorage';
import {
  findRecent,
  forgetDocument,
  listRecent,
  MAX_RECENT,
  rememberDocument,
  updateRecentTitle,
  type RecentDocument,
} from '../../lib/client/recentDocuments';

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

function entry(patch: Partial<RecentDocument> = {}): RecentDocument {
  const caps = mintDocument();
  return { id: caps.docId, title: '', token: caps.owner, role: 'owner', openedAt: 1000, ...patch };
}

describe('recent documents', () => {
  it('is empty at first and lists remembered documents newest first', () => {
    const storage = memoryStorage();
    expect(listRecent(storage)).toEqual([]);
    const a = entry({ title: 'A', openedAt: 1 });
    const b = entry({ title: 'B', openedAt: 2 });
    rememberDocument(storage, a);
    rememberDocument(storage, b);
    expect(listRecent(storage).map((d) => d.title)).toEqual(['B', 'A']);
    expect(findRecent(storage, a.id)?.title).toBe('A');
  });

  it('keeps one entry per document, moving a reopened one to the top', () => {
    const storage = memoryStorage();
    const a = entry({ openedAt: 1 });
    rememberDocument(storage, a);
    rememberDocument(storage, entry({ openedAt: 2 }));
    rememberDocument(storage, { ...a, openedAt: 3 });
    const list = listRecent(storage);
    expect(list).toHaveLength(2);
    expect(list[0]!.id).toBe(a.id);
  });

  it('keeps the stronger link when a weaker one is opened later', () => {
    const storage = memoryStorage();
    const caps = mintDocument();
    rememberDocument(storage, { id: caps.docId, title: '', token: caps.owner, role: 'owner', openedAt: 1 });
    rememberDocument(storage, { id: caps.docId, title: '', token: caps.view, role: 'view', openedAt: 2 });
    expect(findRecent(storage, caps.docId)).toMatchObject({ token: caps.owner, role: 'owner', openedAt: 2 });
    // …and upgrades when a stronger one arrives.
    const storage2 = memoryStorage();
    rememberDocument(storage2, { id: caps.docId, title: '', token: caps.view, role: 'view', openedAt: 1 });
    rememberDocument(storage2, { id: caps.docId, title: '', token: caps.edit, role: 'edit', openedAt: 2 });
    expect(findRecent(storage2, caps.docId)).toMatchObject({ token: caps.edit, role: 'edit' });
  });

  it('keeps a known title when reopened before the title has synced', () => {
    const storage = memoryStorage();
    const a = entry({ title: 'Known' });
    rememberDocument(storage, a);
    rememberDocument(storage, { ...a, title: '', openedAt: 5 });
    expect(findRecent(storage, a.id)?.title).toBe('Known');
  });

  it('updates titles and forgets documents', () => {
    const storage = memoryStorage();
    const a = entry();
    rememberDocument(storage, a);
    updateRecentTitle(storage, a.id, 'Renamed');
    expect(findRecent(storage, a.id)?.title).toBe('Renamed');
    expect(forgetDocument(storage, a.id)).toEqual([]);
    expect(listRecent(storage)).toEqual([]);
  });

  it(`holds at most ${MAX_RECENT} documents, dropping the oldest`, () => {
    const storage = memoryStorage();
    const first = entry({ openedAt: 0 });
    rememberDocument(storage, first);
    for (let i = 1; i <= MAX_RECENT; i++) rememberDocument(storage, entry({ openedAt: i }));
    const list = listRecent(storage);
    expect(list).toHaveLength(MAX_RECENT);
    expect(list.some((d) => d.id === first.id)).toBe(false);
  });

  it('ignores unreadable storage and malformed entries instead of crashing the landing page', () => {
    // Not swallowed: the problem is logged.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const storage = memoryStorage();
    storage.setItem('concord:recent', '{not json');
    expect(listRecent(storage)).toEqual([]);
    storage.setItem('concord:recent', JSON.stringify({ id: 'x' }));
    expect(listRecent(storage)).toEqual([]);
    const good = entry();
    storage.setItem(
      'concord:recent',
      JSON.stringify([good, { ...good, id: 'not-an-id' }, { ...good, role: 'admin' }, null, 42, { ...good, openedAt: 'yesterday' }]),
    );
    expect(listRecent(storage)).toEqual([good]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('unreadable'), expect.any(SyntaxError));
  });
});
