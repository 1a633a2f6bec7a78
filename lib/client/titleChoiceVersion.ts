/**
 * Records a title pick in the document's history as a named version (issue #16, item 6: "the
 * pick is recorded in history"), through the versions API. The version is asked for only once
 * the pick is stored on the server, so that the version holds it; offline, that is when the
 * page is back and saved. Failures are logged: the pick itself is already in the document.
 */

/** What this needs of a DocumentSession. */
export interface SavedSource {
  readonly unsavedEdits: number;
  subscribe(listener: () => void): () => void;
}

/** The versions API's limit on a name. */
export const MAX_VERSION_NAME = 100;

/** "Title chosen: “…”", the value shortened so that the name fits. */
export function titleChoiceName(value: string): string {
  const frame = (v: string) => `Title chosen: “${v}”`;
  const flat = value.replace(/\s+/g, ' ').trim();
  if (frame(flat).length <= MAX_VERSION_NAME) return frame(flat);
  return frame(`${flat.slice(0, MAX_VERSION_NAME - frame('…').length)}…`);
}

/** Resolves once the session has no unsaved edit (at once when it has none now). */
export function whenSaved(session: SavedSource): Promise<void> {
  return new Promise((resolve) => {
    if (session.unsavedEdits === 0) return resolve();
    const stop = session.subscribe(() => {
      if (session.unsavedEdits > 0) return;
      stop();
      resolve();
    });
  });
}

/** Once the pick is stored, POST /api/docs/<id>/versions {"name": "Title chosen: “<value>”"}. */
export async function recordTitleChoice(session: SavedSource, docId: string, token: string, value: string): Promise<void> {
  await whenSaved(session);
  try {
    const res = await fetch(`/api/docs/${encodeURIComponent(docId)}/versions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: titleChoiceName(value) }),
    });
    if (!res.ok) console.warn(`concord: the title choice was not recorded as a version (HTTP ${res.status})`, await res.text().catch((err: unknown) => `(no body: ${String(err)})`));
  } catch (err) {
    console.warn('concord: the title choice was not recorded as a version', err);
  }
}
