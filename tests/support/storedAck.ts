/**
 * Waits until the relay says a document's edits are in storage, not merely relayed. A second
 * client seeing an edit only proves the server has it in memory; before a SIGKILL we need to know
 * it was written. Uses Concord's stored-ack extension (`?concord=1`, lib/protocol/ackExtension.ts).
 */
import * as Y from 'yjs';
import { CONCORD_PROTOCOL_PARAM, CONCORD_PROTOCOL_VERSION, decodeStoredAck } from '../../lib/protocol/ackExtension';
import { openRawSocket } from './rawSocket';

/** True when `stored` (a Yjs state vector) includes every struct `doc` holds. */
export function coversDoc(stored: Uint8Array, doc: Y.Doc): boolean {
  const have = Y.decodeStateVector(stored);
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
    if ((have.get(client) ?? 0) < clock) return false;
  }
  return true;
}

/**
 * Resolves once the relay reports a stored state that covers everything in `doc`.
 *
 * Deletions do not show in a state vector, so make the last edit before calling this an insert:
 * a document's updates are stored in order, so covering the last insert covers every earlier
 * deletion too.
 */
export async function untilStored(wsUrl: string, docId: string, token: string, doc: Y.Doc): Promise<void> {
  const socket = openRawSocket(`${wsUrl}/${docId}?token=${token}&${CONCORD_PROTOCOL_PARAM}=${CONCORD_PROTOCOL_VERSION}`);
  try {
    const outcome = await socket.waitFor((frame) => {
      const stored = decodeStoredAck(frame);
      return stored !== null && coversDoc(stored, doc);
    });
    if (outcome !== 'matched') {
      const { code, reason, httpStatus } = await socket.closed;
      throw new Error(`ack socket closed before the edits were stored (code ${code}, ${reason || 'no reason'}, HTTP ${httpStatus ?? '-'})`);
    }
  } finally {
    socket.ws.terminate();
  }
}
