import * as Y from 'yjs';
import { encodeSyncStep2 } from '../../lib/protocol/encode';
import { ProtocolError } from './errors';

/** The sync step 2 frame answering a step 1: what a peer with `stateVector` lacks of `doc`. */
export function answerSyncStep1(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  let update: Uint8Array;
  try {
    update = Y.encodeStateAsUpdate(doc, stateVector);
  } catch (cause) {
    throw new ProtocolError('invalid state vector', { cause });
  }
  return encodeSyncStep2(update);
}
