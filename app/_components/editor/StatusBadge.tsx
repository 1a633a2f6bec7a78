'use client';

import type { StatusView } from '../../../lib/client/connectionStatus';

/** The connection's state, and the region the editor is on when the server has regions. */
export default function StatusBadge({ view, onReconnect }: { view: StatusView & { region?: string | null }; onReconnect(): void }) {
  const region = view.region ?? null;
  return (
    <div className={`status status-${view.status}`} data-testid="status" data-status={view.status} role="status" aria-live="polite">
      <span className="status-dot" aria-hidden="true" />
      <span className="status-text">{view.text}</span>
      {region !== null && (
        <span className="status-region" data-testid="status-region" data-region={region} title={`The region this editor is using: ${region}`}>
          {' · '}
          {region}
        </span>
      )}
      {(view.status === 'connecting' || view.status === 'offline') && (
        <button type="button" className="link-button" onClick={onReconnect}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
