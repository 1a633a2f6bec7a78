'use client';

/**
 * Shown instead of the editor when the document was written by a newer schema than this page's
 * (issue #15): editing it here would delete what this version cannot show. The local replica
 * stays, so edits not yet saved reach the server from the reloaded, newer page.
 */
export default function ReloadNotice({ text }: { text: string }) {
  return (
    <div className="banner" role="alert" data-testid="reload-notice">
      <p>
        <strong>{text}</strong> Changes you made here that were not synced are still on this device.
      </p>
      <p>
        <button type="button" className="button primary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </p>
    </div>
  );
}
