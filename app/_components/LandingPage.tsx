'use client';

import { useEffect, useState } from 'react';
import { mintDocument } from '../../lib/auth/capabilities';
import { safeStorage } from '../../lib/client/browserStorage';
import { readKeptEdits } from '../../lib/client/keptEdits';
import { keepPageOffline } from '../../lib/client/offlineCache';
import { relayUrl } from '../../lib/client/shareLinks';
import { forgetDocument, listRecent, rememberDocument, type RecentDocument } from '../../lib/client/recentDocuments';
import { UNTITLED } from '../../lib/documents/dataModel';

interface CreatedDocument {
  id: string;
  ownerUrl: string;
}

/** Asks the server for a new document; offline, mints one in the browser (links are self-verifying). */
async function createDocument(): Promise<{ id: string; owner: string }> {
  try {
    const res = await fetch('/api/docs', { method: 'POST' });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const created = (await res.json()) as CreatedDocument;
    const owner = new URL(created.ownerUrl).hash.replace(/^#token=/, '');
    return { id: created.id, owner };
  } catch (err) {
    console.warn('concord: creating the document on this device; it reaches the server when online', err);
    const caps = mintDocument();
    return { id: caps.docId, owner: caps.owner };
  }
}

const ROLE_LABEL = { owner: 'Owner', edit: 'Can edit', view: 'View only' } as const;

type KeptState = { count: number; saving: 'waiting' | 'saving' | 'saved' | 'failed' };

function describeKept({ count, saving }: KeptState): string {
  const edits = `${count} ${count === 1 ? 'edit' : 'edits'}`;
  switch (saving) {
    case 'waiting':
      return `${edits} kept on this device, not yet saved — saved when you are online`;
    case 'saving':
      return `Saving ${edits} kept on this device…`;
    case 'saved':
      return `${edits} from this device saved`;
    case 'failed':
      return `${edits} kept on this device, not yet saved — open the document to retry`;
  }
}

/**
 * Edits made offline in documents that are no longer open: show them, and save them in the
 * background whenever the browser is online.
 */
function useKeptEdits(recent: RecentDocument[] | null): Record<string, KeptState> {
  const [kept, setKept] = useState<Record<string, KeptState>>({});
  useEffect(() => {
    if (!recent) return;
    let cancelled = false;
    const storage = safeStorage();
    const waiting = recent.filter((doc) => doc.role !== 'view' && readKeptEdits(storage, doc.id) > 0);
    const set = (id: string, state: KeptState) => !cancelled && setKept((all) => ({ ...all, [id]: state }));
    const saveAll = async () => {
      if (!navigator.onLine) {
        for (const doc of waiting) set(doc.id, { count: readKeptEdits(storage, doc.id), saving: 'waiting' });
        return;
      }
      const { saveKeptEdits } = await import('../../lib/client/backgroundSave');
      for (const doc of waiting) {
        const count = readKeptEdits(storage, doc.id);
        if (count === 0 || cancelled) continue;
        set(doc.id, { count, saving: 'saving' });
        const result = await saveKeptEdits(storage, doc.id, doc.token, relayUrl(window.location)).catch((err: unknown) => {
          console.warn('concord: could not save kept edits in the background', err);
          return 'failed' as const;
        });
        set(doc.id, { count, saving: result === 'saved' ? 'saved' : 'failed' });
      }
    };
    void saveAll();
    window.addEventListener('online', saveAll);
    return () => {
      cancelled = true;
      window.removeEventListener('online', saveAll);
    };
  }, [recent]);
  return kept;
}

export default function LandingPage() {
  const [recent, setRecent] = useState<RecentDocument[] | null>(null);
  const [creating, setCreating] = useState(false);
  const kept = useKeptEdits(recent);

  useEffect(() => {
    const refresh = () => {
      setRecent(listRecent(safeStorage()));
      setCreating(false);
    };
    refresh();
    // Keep this page for offline use: "New document" works with no network.
    if (navigator.onLine) void keepPageOffline(process.env.NODE_ENV === 'production');
    // "Back" from an editor may restore this page from the back/forward cache with its old state,
    // and other tabs open documents too: re-read the list whenever either happens.
    window.addEventListener('pageshow', refresh);
    window.addEventListener('storage', refresh);
    return () => {
      window.removeEventListener('pageshow', refresh);
      window.removeEventListener('storage', refresh);
    };
  }, []);

  async function onCreate() {
    setCreating(true);
    const { id, owner } = await createDocument();
    rememberDocument(safeStorage(), { id, title: '', token: owner, role: 'owner', openedAt: Date.now() });
    window.location.assign(`/d/${id}#token=${owner}`);
  }

  return (
    <main className="landing">
      <header className="landing-header">
        <h1 className="brand">Concord</h1>
        <p className="tagline">Write together in real time. Every change is saved, and nobody waits on the network.</p>
        <button type="button" className="button primary large" onClick={onCreate} disabled={creating} data-testid="new-document">
          {creating ? 'Creating…' : 'New document'}
        </button>
      </header>
      <section className="recent" aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recently opened in this browser</h2>
        {recent === null ? null : recent.length === 0 ? (
          <p className="muted" data-testid="recent-empty">
            Nothing yet. Documents you open here will be listed for quick access.
          </p>
        ) : (
          <ul className="recent-list" data-testid="recent-list">
            {recent.map((doc) => (
              <li key={doc.id} data-doc-id={doc.id}>
                <a href={`/d/${doc.id}#token=${doc.token}`} className="recent-title">
                  {doc.title || UNTITLED}
                </a>
                <span className="recent-meta">
                  {ROLE_LABEL[doc.role]} · opened {new Date(doc.openedAt).toLocaleString()}
                </span>
                {kept[doc.id] && (
                  <span className={`recent-kept kept-${kept[doc.id]!.saving}`} data-testid="kept-edits" data-state={kept[doc.id]!.saving}>
                    {describeKept(kept[doc.id]!)}
                  </span>
                )}
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Remove ${doc.title || UNTITLED} from this list`}
                  onClick={() => setRecent(forgetDocument(safeStorage(), doc.id))}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
