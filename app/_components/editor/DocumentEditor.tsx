'use client';

import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { EditorState } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { roleAllows, roleFor, type Role } from '../../../lib/auth/capabilities';
import { safeStorage } from '../../../lib/client/browserStorage';
import { DocumentSession, forgetLocalReplica } from '../../../lib/client/DocumentSession';
import { downloadDocument } from '../../../lib/client/downloadFile';
import { loadIdentity, saveName, type Identity } from '../../../lib/client/identity';
import { findRecent, forgetDocument, rememberDocument, updateRecentTitle } from '../../../lib/client/recentDocuments';
import { keepPageOffline, type OfflineReadiness } from '../../../lib/client/offlineCache';
import { docIdFromPath, relayUrl, tokenFromHash } from '../../../lib/client/shareLinks';
import { UNTITLED } from '../../../lib/documents/dataModel';
import { shownRunsWithText } from '../../../lib/editor/authorship';
import { observeTitle } from '../../../lib/documents/title';
import { recordTitleChoice } from '../../../lib/client/titleChoiceVersion';
import NewChangesBar from './NewChangesBar';
import PresenceList from './PresenceList';
import ProseMirrorView from './ProseMirrorView';
import ReloadNotice from './ReloadNotice';
import SharePanel from './SharePanel';
import StatusBadge from './StatusBadge';
import TitleField from './TitleField';
import Toolbar from './Toolbar';
import HistoryPanel from './HistoryPanel';
import HistoryButton from './history/HistoryButton';

/** Performance mark set once the editor is editable with the document's content. */
const EDITABLE_MARK = 'concord:editable';

const OFFLINE_READINESS_TEXT: Record<Exclude<OfflineReadiness, 'unsupported'>, string> = {
  preparing: 'Preparing offline use…',
  ready: 'Available offline',
  failed: 'Not available offline',
};

type Access = { token: string; role: Role } | { missing: true };

/** The capability for this page: the link's fragment, else one remembered from an earlier visit. */
async function resolveAccess(docId: string): Promise<Access> {
  const token = tokenFromHash(window.location.hash) ?? findRecent(safeStorage(), docId)?.token ?? null;
  if (!token) return { missing: true };
  const local = roleFor(docId, token);
  if (local) return { token, role: local };
  // Not on the hash chain: a rotated link, which only the server can check.
  try {
    const res = await fetch(`/api/docs/${docId}`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.ok) return { token, role: ((await res.json()) as { role: Role }).role };
  } catch (err) {
    console.warn('concord: could not check this link with the server', err);
  }
  // Let the relay decide; a bad link is refused there with an explanation.
  return { token, role: 'view' };
}

export default function DocumentEditor({ docId: renderedDocId }: { docId: string }) {
  // Offline, the service worker may have answered with a page rendered for another document.
  const docId = docIdFromPath(window.location.pathname) ?? renderedDocId;
  const [access, setAccess] = useState<Access | null>(null);
  useEffect(() => {
    let cancelled = false;
    void resolveAccess(docId).then((a) => !cancelled && setAccess(a));
    return () => {
      cancelled = true;
    };
  }, [docId]);

  if (!access) return <div className="editor-loading">Opening the document…</div>;
  if ('missing' in access) {
    return (
      <main className="message-page">
        <div className="message-card" data-testid="missing-token">
          <p className="message-status">No access</p>
          <h1>This link has no access token</h1>
          <p>Concord links look like <code>/d/…#token=…</code>. Ask the document&apos;s owner for an edit or view link.</p>
          <p>
            <a href="/">Go to Concord&apos;s start page</a>
          </p>
        </div>
      </main>
    );
  }
  return <Workspace docId={docId} token={access.token} role={access.role} />;
}

function Workspace({ docId, token, role }: { docId: string; token: string; role: Role }) {
  const [identity, setIdentity] = useState<Identity>(() => loadIdentity(safeStorage()));
  const [session, setSession] = useState<DocumentSession | null>(null);
  const canEdit = roleAllows(role, 'edit');
  useEffect(() => {
    // Created in an effect (not render) so React's double-invoked renders never open two sockets.
    const created = new DocumentSession(docId, token, relayUrl(window.location), loadIdentity(safeStorage()), canEdit);
    setSession(created);
    return () => created.destroy();
  }, [docId, token, canEdit]);
  if (!session) return <div className="editor-loading">Connecting…</div>;
  return <SessionWorkspace session={session} role={role} identity={identity} setIdentity={setIdentity} />;
}

interface SessionWorkspaceProps {
  session: DocumentSession;
  role: Role;
  identity: Identity;
  setIdentity(identity: Identity): void;
}

function SessionWorkspace({ session, role, identity, setIdentity }: SessionWorkspaceProps) {
  const { docId, token, canEdit } = session;
  const status = useSyncExternalStore(
    useCallback((onChange) => session.subscribe(onChange), [session]),
    () => session.status,
  );
  const [view, setView] = useState<EditorView | null>(null);
  const [pmState, setPmState] = useState<EditorState | null>(null);
  const [sharing, setSharing] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const historyToggle = { open: historyOpen, onToggle: () => setHistoryOpen((open) => !open) };
  const [title, setTitle] = useState('');
  const [offlineReadiness, setOfflineReadiness] = useState<OfflineReadiness | null>(null);

  useEffect(() => session.setIdentity(identity), [session, identity]);

  useEffect(() => {
    rememberDocument(safeStorage(), { id: docId, title: session.title, token, role, openedAt: Date.now() });
    const onTitle = () => {
      const text = session.title;
      setTitle(text);
      updateRecentTitle(safeStorage(), docId, text);
    };
    return observeTitle(session.doc, onTitle);
  }, [session, docId, token, role]);

  useEffect(() => {
    const wanted = `${title.trim() || UNTITLED} — Concord`;
    document.title = wanted;
    // Next's metadata may write the head's <title> after this effect ran (a race at page load):
    // put ours back whenever someone else changes it.
    const observer = new MutationObserver(() => {
      if (document.title !== wanted) document.title = wanted;
    });
    observer.observe(document.head, { subtree: true, childList: true, characterData: true });
    return () => observer.disconnect();
  }, [title]);

  useEffect(() => {
    if (!view) return;
    // Test and automation hook: document text from the editor state (never from the DOM, which
    // also holds remote cursor labels).
    (window as unknown as { __concord?: unknown }).__concord = {
      ready: true,
      docId: session.docId,
      getText: () => view.state.doc.textBetween(0, view.state.doc.content.size, '\n'),
      getTitle: () => session.title,
      unsavedEdits: () => session.unsavedEdits,
      authorship: () => shownRunsWithText(view.state),
    };
    let cancelled = false;
    // For time-to-editable measurements: the editor is up and the document's content is in it.
    void session.contentLoaded.then(() => {
      if (!cancelled && performance.getEntriesByName(EDITABLE_MARK).length === 0) performance.mark(EDITABLE_MARK);
    });
    return () => {
      cancelled = true;
      delete (window as unknown as { __concord?: unknown }).__concord;
    };
  }, [view, session]);

  useEffect(() => {
    // Once the editor has loaded everything it needs, keep it all for opening offline.
    if (!view || !navigator.onLine) return;
    let cancelled = false;
    setOfflineReadiness('preparing');
    void keepPageOffline(process.env.NODE_ENV === 'production').then((readiness) => !cancelled && setOfflineReadiness(readiness));
    return () => {
      cancelled = true;
    };
  }, [view]);

  const refused = status.status === 'refused';
  // The document was written by a newer schema: nothing here may edit it (see ProseMirrorView).
  const outdated = status.status === 'outdated';

  return (
    <div className="workspace">
      <header className="doc-header">
        <a href="/" className="brand small" aria-label="Concord start page">
          Concord
        </a>
        <TitleField
          doc={session.doc}
          editable={canEdit && !outdated}
          author={identity}
          onPicked={(value) => void recordTitleChoice(session, docId, token, value)}
        />
        {!canEdit && (
          <span className="badge" data-testid="view-only">
            View only
          </span>
        )}
        <StatusBadge view={status} onReconnect={() => session.reconnect()} />
        {offlineReadiness && offlineReadiness !== 'unsupported' && (
          <span className={`offline-readiness offline-${offlineReadiness}`} data-testid="offline-readiness" data-state={offlineReadiness}>
            {OFFLINE_READINESS_TEXT[offlineReadiness]}
          </span>
        )}
        <PresenceList awareness={session.provider.awareness} />
        <label className="name-field">
          <span>Your name</span>
          <input
            data-testid="user-name"
            defaultValue={identity.name}
            maxLength={40}
            onBlur={(e) => setIdentity(saveName(safeStorage(), identity, e.target.value))}
            onKeyDown={(e) => {
              if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            }}
          />
        </label>
        {/* Without the toolbar (view links), the History button sits here. */}
        {!(canEdit && !outdated) && <HistoryButton {...historyToggle} className="button" />}
        <button type="button" className="button primary" onClick={() => setSharing((s) => !s)} aria-expanded={sharing} data-testid="share">
          Share
        </button>
      </header>
      {sharing && <SharePanel docId={docId} token={token} role={role} doc={session.doc} onClose={() => setSharing(false)} />}
      {historyOpen && <HistoryPanel session={session} view={view} onClose={() => setHistoryOpen(false)} />}
      {refused && (
        <div className="banner" role="alert" data-testid="refused">
          <p>
            <strong>{status.text}</strong> Changes you made here that were not synced are still on this device.
          </p>
          <p>
            <button type="button" className="button" onClick={() => downloadDocument(session.doc, 'md')}>
              Download your copy
            </button>{' '}
            <button
              type="button"
              className="button"
              onClick={() => {
                forgetDocument(safeStorage(), docId);
                session.destroy();
                forgetLocalReplica(docId)
                  .catch((err: unknown) => console.warn('concord: could not delete the local replica', err))
                  .finally(() => window.location.assign('/'));
              }}
            >
              Forget on this device
            </button>
          </p>
        </div>
      )}
      {outdated && <ReloadNotice text={status.text} />}
      <NewChangesBar seen={session.seenChanges} />
      {canEdit && !outdated && <Toolbar view={view} state={pmState} history={historyToggle} />}
      <main className="page">
        {!outdated && <ProseMirrorView session={session} editable={canEdit && !refused} onReady={setView} onChange={setPmState} />}
      </main>
    </div>
  );
}
