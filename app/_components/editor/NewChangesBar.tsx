'use client';

import { useCallback, useSyncExternalStore } from 'react';
import { describeNewChanges } from '../../../lib/client/lastSeen';
import type { SeenChanges } from '../../../lib/client/SeenChanges';

/**
 * "N changes by A and B since you last looked · Dismiss": shown while others' new text is
 * highlighted (lib/client/SeenChanges.ts). The live region is always in the page, so screen
 * readers announce the bar when it appears.
 */
export default function NewChangesBar({ seen }: { seen: SeenChanges }) {
  const summary = useSyncExternalStore(
    useCallback((onChange) => seen.subscribe(onChange), [seen]),
    () => seen.summary,
    () => null,
  );
  return (
    <div aria-live="polite" data-testid="new-changes-region">
      {summary && summary.count > 0 && (
        <div className="new-changes-bar" data-testid="new-changes">
          <p>{describeNewChanges(summary)}</p>
          <span aria-hidden="true">·</span>
          <button type="button" className="link-button" onClick={() => seen.dismiss()}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
