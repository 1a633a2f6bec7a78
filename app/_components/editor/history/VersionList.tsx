'use client';

import type { VersionSummary } from '../../../../lib/client/historyApi';
import { absoluteTime, relativeTime } from './time';
import { versionLabel } from './VersionView';

interface Props {
  versions: VersionSummary[];
  /** The version being viewed, if any. */
  selectedId: string | null;
  /** For relative times. */
  now: number;
  onView(version: VersionSummary): void;
  /** Lets the panel give focus back to a version's button when its view closes. */
  buttonRef(id: string, element: HTMLButtonElement | null): void;
}

/** The versions, newest first: one button each, reading as "name, time, authors". */
export default function VersionList({ versions, selectedId, now, onView, buttonRef }: Props) {
  if (versions.length === 0) return <p className="muted small">No versions yet. They are made a few minutes after edits, or when someone names one.</p>;
  return (
    <ol className="history-list" aria-label="Versions, newest first" data-testid="version-list">
      {versions.map((version) => (
        <li key={version.id}>
          <button
            type="button"
            ref={(el) => buttonRef(version.id, el)}
            className={`history-item${version.kind === 'named' ? ' named' : ''}`}
            aria-current={version.id === selectedId ? 'true' : undefined}
            onClick={() => onView(version)}
            data-testid="version-item"
            data-version-id={version.id}
          >
            <span className="history-item-name">{versionLabel(version)}</span>
            <time className="history-item-time" dateTime={version.createdAt} title={absoluteTime(version.createdAt)}>
              {relativeTime(version.createdAt, now)}
            </time>
            {version.authors.length > 0 && (
              <span className="history-item-authors">
                <span className="history-sr-only">Edited by </span>
                {version.authors.map((author, i) => (
                  <span key={`${author.name}-${author.color}-${i}`} className="history-author">
                    <span className="history-dot" style={{ background: author.color }} aria-hidden="true" />
                    {author.name}
                    {i < version.authors.length - 1 ? <span className="history-sr-only">, </span> : null}
                  </span>
                ))}
              </span>
            )}
          </button>
        </li>
      ))}
    </ol>
  );
}
