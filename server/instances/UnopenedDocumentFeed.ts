/**
 * For the instance holding its region's links (issue #13, regions on top): the other instances'
 * changes to documents this one does not have open, as they are published (a pattern
 * subscription on the region's document channels), so they cross to the peer regions live too.
 * Documents open here reach the links through their room instead. Changes that came from a peer
 * region are left out (never sent over a link again). What this misses (a lost message) the
 * backlog has: the instance that stored it marked it for the peers.
 */
import { decodeDocumentMessage, type DocumentMessage } from './busFrames';
import type { RedisBus } from './RedisBus';

export class UnopenedDocumentFeed {
  private listener: ((docId: string, update: Uint8Array) => void) | null = null;

  constructor(
    private readonly bus: RedisBus,
    private readonly instanceId: string,
    /** Every document channel starts with it; the document id follows. */
    private readonly docChannelPrefix: string,
    /** Open or opening here: the room's own subscription delivers those. */
    private readonly isOpenHere: (docId: string) => boolean,
  ) {}

  /** Starts the feed; returns a function that stops it. */
  start(onUpdate: (docId: string, update: Uint8Array) => void): () => void {
    const pattern = `${this.docChannelPrefix}*`;
    this.listener = onUpdate;
    this.bus.psubscribe(pattern);
    return () => {
      if (this.listener !== onUpdate) return;
      this.listener = null;
      this.bus.punsubscribe(pattern);
    };
  }

  /** A message the pattern subscription delivered. */
  receive(channel: string, bytes: Uint8Array): void {
    const listener = this.listener;
    if (!listener || !channel.startsWith(this.docChannelPrefix)) return;
    const docId = channel.slice(this.docChannelPrefix.length);
    if (this.isOpenHere(docId)) return;
    let message: DocumentMessage;
    try {
      message = decodeDocumentMessage(bytes);
    } catch {
      return; // counted and logged by InstanceSync for documents open here; nothing to forward
    }
    if (message.sender === this.instanceId || message.frame.type !== 'update' || message.frame.fromPeerRegion) return;
    listener(docId, message.frame.update);
  }
}
