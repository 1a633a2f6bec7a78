'use client';

import { useId, type CSSProperties } from 'react';
import { UNTITLED } from '../../../lib/documents/dataModel';
import type { TitleCandidate, TitleState } from '../../../lib/documents/title';

// Styled here rather than in globals.css: the conflict is this component's alone. The header
// wraps; the conflict takes a row of its own at its bottom, whatever follows the title.
const CONFLICT_STYLE: CSSProperties = {
  order: 99,
  flexBasis: '100%',
  display: 'flex',
  flexWrap: 'wrap',
  alignItems: 'center',
  gap: '0.4rem',
  fontSize: '0.85rem',
  color: 'var(--warn)',
  background: '#fff8c5',
  border: '1px solid #eed888',
  borderRadius: 6,
  padding: '0.25rem 0.6rem',
};
const CANDIDATE_STYLE: CSSProperties = {
  fontSize: '0.85rem',
  fontWeight: 600,
  padding: '0.1rem 0.6rem',
  color: 'var(--fg)',
  maxWidth: '20rem',
  overflow: 'hidden',
  textOverflow: 'ellipsis',
  whiteSpace: 'nowrap',
};

/** Beyond this many, the others are counted, not listed (a hostile client could add hundreds). */
const MAX_LISTED = 5;

/**
 * Concurrent title replacements, beside the title: the other candidates, each a button that
 * makes it the title for everyone (edit links), or plain text (view links see, not decide).
 */
export default function TitleConflict({ state, canPick, onPick }: { state: TitleState; canPick: boolean; onPick(id: string): void }) {
  const labelId = useId();
  if (!state.conflict) return null;
  const [shown, ...others] = state.candidates;
  const listed = others.slice(0, MAX_LISTED);
  return (
    <div style={CONFLICT_STYLE} role="group" aria-labelledby={labelId} data-testid="title-conflict">
      <span id={labelId}>{state.candidates.length} titles were set at once:</span>
      {listed.map((candidate) =>
        canPick ? (
          <button
            key={candidate.id}
            type="button"
            className="button" style={CANDIDATE_STYLE}
            data-testid="title-candidate"
            aria-label={`Use the title ${quoted(candidate)}${by(candidate)}`}
            title={`Use this title${by(candidate)}`}
            onClick={() => onPick(candidate.id)}
          >
            {shownValue(candidate)}
          </button>
        ) : (
          <span key={candidate.id} style={CANDIDATE_STYLE} data-testid="title-candidate" title={by(candidate).trim() || undefined}>
            {shownValue(candidate)}
          </span>
        ),
      )}
      {others.length > listed.length && <span>and {others.length - listed.length} more</span>}
      {canPick && shown && (
        <button
          type="button"
          className="button" style={CANDIDATE_STYLE}
          data-testid="title-keep"
          aria-label={`Keep the title ${quoted(shown)}${by(shown)}`}
          onClick={() => onPick(shown.id)}
        >
          Keep {quoted(shown)}
        </button>
      )}
    </div>
  );
}

function shownValue(candidate: TitleCandidate): string {
  return candidate.value.trim() || UNTITLED;
}

function quoted(candidate: TitleCandidate): string {
  return `“${shownValue(candidate)}”`;
}

function by(candidate: TitleCandidate): string {
  return candidate.author ? `, set by ${candidate.author.name}` : '';
}
