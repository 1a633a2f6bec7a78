'use client';

import type { StatusView } from '../../../lib/client/connectionStatus';

export default function StatusBadge({ view, onReconnect }: { view: StatusView; onReconnect(): void }) {
  return (
    <div className={`status status-${view.status}`} data-testid="status" data-status={view.status} role="status" aria-live="polite">
      <span className="status-dot" aria-hidden="true" />
      <span className="status-text">{view.text}</span>
      {(view.status === 'connecting' || view.status === 'offline') && (
        <button type="button" className="link-button" onClick={onReconnect}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
