'use client';

import { useEffect, useRef, useState } from 'react';
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import type { HistoryApi, VersionSummary } from '../../../../lib/client/historyApi';
import { compareVersions, deletersFrom, type VersionComparison } from '../../../../lib/client/versionChanges';
import { UNTITLED } from '../../../../lib/documents/dataModel';
import { changeDecorations, changeSummary } from './changeDecorations';
import { absoluteTime, relativeTime } from './time';

interface Props {
  api: HistoryApi;
  version: VersionSummary;
  /** Edit links may restore; view links only look. */
  canRestore: boolean;
  /** A restore is under way (of any version). */
  restoring: boolean;
  onRestore(version: VersionSummary): void;
  onClose(): void;
}

type Loaded = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; comparison: VersionComparison };

/** Test and automation hook: the viewed version's text, from its ProseMirror document. */
interface HistoryHook {
  versionText(): string;
}

export function versionLabel(version: VersionSummary): string {
  return version.name ?? 'Automatic version';
}

/** One version, read-only, with what changed since the version before it highlighted. */
export default function VersionView({ api, version, canRestore, restoring, onRestore, onClose }: Props) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, [version.id]);

  useEffect(() => {
    let cancelled = false;
    setLoaded({ state: 'loading' });
    void (async () => {
      const { previousId, deletions } = await api.detail(version.id);
      const [current, previous] = await Promise.all([api.content(version.id), previousId ? api.content(previousId) : Promise.resolve(null)]);
      return compareVersions(previous, current, deletersFrom(deletions));
    })().then(
      (comparison) => !cancelled && setLoaded({ state: 'ready', comparison }),
      (err: unknown) => {
        console.warn('concord: could not open a version', version.id, err);
        if (!cancelled) setLoaded({ state: 'error', message: err instanceof Error ? err.message : 'This version could not be opened.' });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, version.id]);

  const label = versionLabel(version);
  return (
    <section
      className="history-viewer"
      aria-labelledby="history-viewer-heading"
      data-testid="version-view"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="history-viewer-header">
        <div>
          <h2 id="history-viewer-heading" ref={heading} tabIndex={-1}>
            {label}{' '}
            <span className="muted small">
              <time dateTime={version.createdAt} title={absoluteTime(version.createdAt)}>
                {relativeTime(version.createdAt, Date.now())}
              </time>{' '}
              · read only
            </span>
          </h2>
        </div>
        <div className="history-viewer-actions">
          {canRestore && (
            <button type="button" className="button primary" disabled={restoring || loaded.state !== 'ready'} onClick={() => onRestore(version)} data-testid="restore-version">
              Restore this version
            </button>
          )}
          <button type="button" className="button" onClick={onClose} data-testid="close-version">
            Back to the document
          </button>
        </div>
      </header>
      <p className="history-viewer-status" role="status" aria-live="polite">
        {loaded.state === 'loading' ? 'Opening this version…' : null}
      </p>
      {loaded.state === 'error' && (
        <p className="history-error" role="alert">
          {loaded.message}
        </p>
      )}
      {loaded.state === 'ready' && <ComparisonView comparison={loaded.comparison} />}
    </section>
  );
}

function characters(n: number): string {
  return `${n} ${n === 1 ? 'character' : 'characters'}`;
}

/** "17 characters added, 5 deleted", "5 characters deleted". */
function authorCounts({ added, deleted }: { added: number; deleted: number }): string {
  if (added === 0) return `${characters(deleted)} deleted`;
  return deleted === 0 ? `${characters(added)} added` : `${characters(added)} added, ${deleted} deleted`;
}

function ComparisonView({ comparison }: { comparison: VersionComparison }) {
  const host = useRef<HTMLDivElement>(null);
  const summary = changeSummary(comparison.changes);

  useEffect(() => {
    if (!host.current) return;
    const decorations = changeDecorations(comparison);
    const view = new EditorView(host.current, {
      state: EditorState.create({ doc: comparison.doc }),
      editable: () => false,
      decorations: () => decorations,
      attributes: { 'aria-label': 'Content of this version', 'aria-readonly': 'true', class: 'history-content' },
    });
    const hook: HistoryHook = { versionText: () => view.state.doc.textBetween(0, view.state.doc.content.size, '\n') };
    (window as unknown as { __concordHistory?: HistoryHook }).__concordHistory = hook;
    return () => {
      view.destroy();
      const w = window as unknown as { __concordHistory?: HistoryHook };
      if (w.__concordHistory === hook) delete w.__concordHistory;
    };
  }, [comparison]);

  return (
    <>
      <div className="history-summary" data-testid="version-summary">
        <p className="history-version-title">
          {comparison.title.trim() || UNTITLED}
          {comparison.previousTitle !== null && (
            <>
              {' '}
              <span className="muted small">
                (was <del className="history-del">{comparison.previousTitle.trim() || UNTITLED}</del>)
              </span>
            </>
          )}
        </p>
        {comparison.unplaced ? (
          <p className="muted small">This version holds content this editor cannot show, so its changes are not highlighted.</p>
        ) : summary.authors.length === 0 && summary.deleted === 0 ? (
          <p className="muted small">No changes to the text since the previous version.</p>
        ) : (
          <ul className="history-legend" aria-label="Changes since the previous version">
            {summary.authors.map((a) => (
              <li key={`${a.name}-${a.color}`}>
                <span className="history-dot" style={{ background: a.color }} aria-hidden="true" /> {a.name}: {authorCounts(a)}
              </li>
            ))}
            {summary.deleted > 0 && (
              <li>
                <del className="history-del">deleted</del> {characters(summary.deleted)} (who deleted {summary.deleted === 1 ? 'it' : 'them'} was not recorded)
              </li>
            )}
          </ul>
        )}
      </div>
      <div ref={host} className="history-content-host" data-testid="version-content" />
    </>
  );
}
