/**
 * Digest checks (Concord extension version 2): a replica compares its state vector and document
 * digest with ours, which is computed once per state of the document.
 */
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { MessageType } from '../../lib/protocol/messageTypes';
import { encodeSyncStep1 } from '../../lib/protocol/encode';
import { decodeDigestCheck, DIGEST_MESSAGE_TYPE, encodeDigestCheck } from '../../lib/protocol/ackExtension';
import { documentDigest, equalBytes } from '../../lib/protocol/documentDigest';
import type { Metrics } from '../metrics';
import { ProtocolError } from './errors';
import type { RoomConnection } from './RoomConnection';
import type { SendToConnection } from './StoredAcks';
import { answerSyncStep1 } from './syncAnswer';

interface Digest {
  stateVector: Uint8Array;
  digest: Uint8Array;
}

export class ReplicaDigest {
  /** Counts completed changes, so the digest is computed once per state. */
  private version = 0;
  private cache: (Digest & { version: number }) | null = null;

  constructor(
    private readonly doc: Y.Doc,
    private readonly docId: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly send: SendToConnection,
  ) {}

  /** The document completed a change: the cached digest is out of date. */
  changed(): void {
    this.version++;
  }

  /**
   * A replica compares itself with ours. Equal state vectors with different digests are a split
   * that no sync would ever repair (each side thinks the other has nothing new): count it, and
   * exchange full state with that client — its whole document comes back through the usual
   * checks, ours goes to it — then answer with our state vector and digest either way.
   */
  receiveCheck(conn: RoomConnection, frame: Uint8Array): void {
    let check: Digest;
    try {
      check = decodeDigestCheck(frame)!;
    } catch (cause) {
      throw new ProtocolError('malformed digest check', { cause });
    }
    const ours = this.current();
    if (equalBytes(check.stateVector, ours.stateVector) && !equalBytes(check.digest, ours.digest)) {
      this.metrics.splitDetected();
      this.log.warn({ docId: this.docId, connectionId: conn.origin.connectionId }, 'replica split detected (equal state vectors, different digests); exchanging full state');
      this.send(conn, MessageType.sync, encodeSyncStep1(new Y.Doc()));
      this.send(conn, MessageType.sync, answerSyncStep1(this.doc, new Uint8Array([0])));
    }
    this.send(conn, DIGEST_MESSAGE_TYPE, encodeDigestCheck(ours.stateVector, ours.digest));
  }

  private current(): Digest {
    if (this.cache === null || this.cache.version !== this.version) {
      this.cache = { version: this.version, stateVector: Y.encodeStateVector(this.doc), digest: documentDigest(this.doc) };
    }
    return this.cache;
  }
}
