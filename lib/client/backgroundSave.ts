/**
 * Saves a document's kept edits without opening it: loads the local replica, connects to the
 * relay without presence (nobody sees a cursor), and waits until the relay confirms every kept
 * edit is stored. Used by the start page, so edits made offline reach the server as soon as the
 * browser is back online, not only when their document is opened again.
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import { isPermanentRefusal } from '../protocol/closeCodes';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION } from '../protocol/ackExtension';
import type { KeyValueStorage } from './browserStorage';
import { localReplicaName } from './DocumentSession';
import { readKeptEdits, writeKeptEdits } from './keptEdits';
import { SaveTracker } from './SaveTracker';
import { ClientIdClaims } from './ClientIdClaims';

export type BackgroundSaveResult = 'saved' | 'refused' | 'timed-out';

export async function saveKeptEdits(
  storage: KeyValueStorage,
  docId: string,
  token: string,
  relayUrl: string,
  timeoutMs = 30_000,
): Promise<BackgroundSaveResult> {
  const doc = new Y.Doc();
  const local = new IndexeddbPersistence(localReplicaName(docId), doc);
  await local.whenSynced;
  const provider = new WebsocketProvider(relayUrl, docId, doc, {
    params: { token, [CONCORD_PROTOCOL_PARAM]: String(CONCORD_PROTOCOL_VERSION) },
    connect: false,
    disableBc: true,
  });
  provider.awareness.setLocalState(null);
  // The kept edits are under this browser's claimed client ids: without the claims they would wait.
  const claims = new ClientIdClaims(doc, provider, storage, docId);
  const tracker = new SaveTracker(doc, provider, { isRemoteOrigin: (origin) => origin === local, carriedOver: readKeptEdits(storage, docId) });
  try {
    return await new Promise<BackgroundSaveResult>((resolve) => {
      const timer = setTimeout(() => resolve('timed-out'), timeoutMs);
      const finish = (result: BackgroundSaveResult) => {
        clearTimeout(timer);
        resolve(result);
      };
      tracker.subscribe(() => {
        if (tracker.unsaved === 0) finish('saved');
      });
      provider.on('closed', ({ code }) => {
        if (isPermanentRefusal(code)) finish('refused');
      });
      provider.connect();
    });
  } finally {
    // A document open in a tab meanwhile keeps its own count; only ours is cleared here.
    if (tracker.unsaved === 0) writeKeptEdits(storage, docId, 0);
    tracker.destroy();
    claims.destroy();
    provider.destroy();
    await local.destroy();
    doc.destroy();
  }
}
