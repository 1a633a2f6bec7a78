'use client';

import { HISTORY_PANEL_ID } from '../HistoryPanel';

/** Opens and closes the version history panel (in the toolbar, or the header for view links). */
export default function HistoryButton({ open, onToggle, className = 'tool' }: { open: boolean; onToggle(): void; className?: string }) {
  return (
    <button
      type="button"
      className={`${className}${open ? ' active' : ''}`}
      aria-expanded={open}
      aria-controls={open ? HISTORY_PANEL_ID : undefined}
      title="Version history: see, name and restore versions"
      onClick={onToggle}
      data-testid="history"
    >
      History
    </button>
  );
}
