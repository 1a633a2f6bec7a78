'use client';

import { useEffect } from 'react';

export default function EditorError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error('concord: the editor crashed', error);
  }, [error]);
  return (
    <main className="message-page">
      <div className="message-card" role="alert">
        <p className="message-status">Something went wrong</p>
        <h1>The editor stopped unexpectedly</h1>
        <p>Your changes up to the last sync are safe on the server. Reload to continue editing.</p>
        <p>
          <button type="button" className="button primary" onClick={() => reset()}>
            Try again
          </button>{' '}
          <button type="button" className="button" onClick={() => window.location.reload()}>
            Reload the page
          </button>
        </p>
      </div>
    </main>
  );
}
