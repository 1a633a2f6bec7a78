'use client';

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { EditorView } from 'prosemirror-view';
import type { DocumentSession } from '../../../lib/client/DocumentSession';
import { HistoryApi, MAX_VERSION_NAME, type VersionSummary } from '../../../lib/client/historyApi';
import { restoreVersion, type RestoreUndo } from './history/restoreFlow';
import { absoluteTime } from './history/time';
import VersionList from './history/VersionList';
import VersionView, { versionLabel } from './history/VersionView';

interface Props {
  session: DocumentSession;
  /** The editor: its undo manager takes restores back. Null until it is mounted. */
  view: EditorView | null;
  onClose(): void;
}

/** The id the History buttons point at with aria-controls. */
export const HISTORY_PANEL_ID = 'history-panel';

const STEP_TEXT = {
  saving: 'Waiting for your changes to be saved…',
  'before-restore': 'Saving the current content as “Before restore”…',
  fetching: 'Restoring…',
} as const;

/** Relative times are refreshed this often while the panel is open. */
const CLOCK_TICK_MS = 30_000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : 'Something went wrong. Try again.';
}

/**
 * Version history (issue #16, items 3 and 4): the versions, newest first; viewing one read-only
 * with its changes; with an edit link, naming the current content and restoring a version (as
 * an edit of this tab, so Undo takes it back).
 */
export default function HistoryPanel({ session, view, onClose }: Props) {
  const { canEdit } = session;
  const api = useMemo(() => new HistoryApi(session.docId, session.token), [session]);
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [status, setStatus] = useState('Loading versions…');
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<VersionSummary | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState<'naming' | 'restoring' | null>(null);
  const [restored, setRestored] = useState<{ label: string; undo: RestoreUndo | null } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const heading = useRef<HTMLHeadingElement>(null);
  const undoButton = useRef<HTMLButtonElement>(null);
  const itemButtons = useRef(new Map<string, HTMLButtonElement>());

  const refresh = useCallback(async () => {
    try {
      const list = await api.list();
      setVersions(list);
      setNow(Date.now());
      return list;
    } catch (err) {
      console.warn('concord: could not list versions', err);
      setError(`Could not load the versions: ${messageOf(err)}`);
      return null;
    }
  }, [api]);

  useEffect(() => {
    // Focus moves into the panel, and back to whatever opened it when it closes.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    heading.current?.focus();
    const timer = setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    return () => {
      clearInterval(timer);
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  useEffect(() => {
    void refresh().then((list) => list && setStatus(`${list.length} ${list.length === 1 ? 'version' : 'versions'}`));
  }, [refresh]);

  useEffect(() => {
    if (restored?.undo) undoButton.current?.focus();
  }, [restored]);

  function closeViewer() {
    const id = viewing?.id;
    setViewing(null);
    if (id) itemButtons.current.get(id)?.focus();
  }

  async function onName(event: FormEvent) {
    event.preventDefault();
    const wanted = name.trim();
    if (wanted.length === 0) {
      setError('Give the version a name first.');
      return;
    }
    setBusy('naming');
    setError(null);
    setStatus('Saving the version…');
    try {
      const version = await api.name(wanted);
      setName('');
      setStatus(`Saved the current content as “${versionLabel(version)}”.`);
      await refresh();
    } catch (err) {
      setStatus('');
      setError(`Could not name this version: ${messageOf(err)}`);
    } finally {
      setBusy(null);
    }
  }

  async function onRestore(version: VersionSummary) {
    if (!view) {
      setError('The editor is not ready yet; try again in a moment.');
      return;
    }
    const label = version.name ? `“${version.name}”` : `the version of ${absoluteTime(version.createdAt)}`;
    setBusy('restoring');
    setError(null);
    setRestored(null);
    try {
      const outcome = await restoreVersion({ session, view, api, versionId: version.id, onStep: (step) => setStatus(STEP_TEXT[step]) });
      setViewing(null);
      setRestored({ label, undo: outcome.undo });
      setStatus(outcome.undo ? `Restored ${label}.` : `The document already matches ${label}: nothing changed.`);
      await refresh();
    } catch (err) {
      console.warn('concord: restore failed', version.id, err);
      setStatus('');
      setError(`Could not restore ${label}: ${messageOf(err)}`);
    } finally {
      setBusy(null);
    }
  }

  function onUndoRestore() {
    if (!restored?.undo) return;
    if (restored.undo.undo()) {
      setRestored(null);
      setStatus(`Undid the restore of ${restored.label}.`);
      view?.focus();
    } else {
      setError('You have edited since the restore: use Undo in the editor (Ctrl+Z) to step back through your edits to it.');
    }
  }

  return (
    <>
      <aside
        id={HISTORY_PANEL_ID}
        className="history-panel"
        aria-labelledby="history-heading"
        data-testid="history-panel"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <header className="history-header">
          <h2 id="history-heading" ref={heading} tabIndex={-1}>
            Version history
          </h2>
          <button type="button" className="link-button" onClick={() => void refresh()} disabled={busy !== null}>
            Refresh
          </button>
          <button type="button" className="button" aria-label="Close version history" onClick={onClose} data-testid="close-history">
            Close
          </button>
        </header>
        <p className="history-status" role="status" aria-live="polite" data-testid="history-status">
          {status}
          {restored?.undo && (
            <>
              {' '}
              <button type="button" className="link-button" ref={undoButton} onClick={onUndoRestore} data-testid="undo-restore">
                Undo
              </button>
            </>
          )}
        </p>
        {error && (
          <p className="history-error" role="alert" data-testid="history-error">
            {error}
          </p>
        )}
        {canEdit && (
          <form className="history-name-form" onSubmit={(e) => void onName(e)}>
            <label>
              <span>Name this version</span>
              <input value={name} maxLength={MAX_VERSION_NAME} onChange={(e) => setName(e.target.value)} placeholder="e.g. Sent to review" data-testid="version-name" />
            </label>
            <button type="submit" className="button" disabled={busy !== null} data-testid="save-version">
              Save version
            </button>
          </form>
        )}
        {versions && (
          <VersionList
            versions={versions}
            selectedId={viewing?.id ?? null}
            now={now}
            onView={setViewing}
            buttonRef={(id, el) => {
              if (el) itemButtons.current.set(id, el);
              else itemButtons.current.delete(id);
            }}
          />
        )}
      </aside>
      {viewing && (
        <VersionView api={api} version={viewing} canRestore={canEdit} restoring={busy === 'restoring'} onRestore={(v) => void onRestore(v)} onClose={closeViewer} />
      )}
    </>
  );
}
