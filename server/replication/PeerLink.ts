/**
 * One verified link to another region (after handshake.ts): sends and receives replication
 * frames for every document, and answers "what do you hold?" requests with a deadline.
 * Transport-agnostic apart from `buffered`, which the catch-up uses for flow control.
 */
import type { Logger } from 'pino';
import type { LinkChannel, LinkPeer } from './handshake';
import { decodeReplicationMessage, encodeReplicationMessage, type DocumentState, type ReplicationMessage } from './replicationFrames';
import type { PeerOrigin } from '../relay/origins';
import { LinkTraffic } from './LinkTraffic';

export interface PeerLinkHandlers {
  onMessage(link: PeerLink, message: ReplicationMessage): void;
  onClosed(link: PeerLink): void;
}

export class PeerLink {
  readonly origin: PeerOrigin;
  readonly openedAt = Date.now();
  /** Epoch ms of the last frame from the peer; the handshake counts. */
  lastContact = Date.now();
  /** Replication frames sent and received that carried document updates (echo bound, tests). */
  updatesSent = 0;
  updatesReceived = 0;
  bytesSent = 0;
  private closed = false;
  private nextRequest = 1;
  private readonly requests = new Map<number, { resolve: (state: DocumentState | null) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly peer: LinkPeer,
    readonly dialed: boolean,
    private readonly channel: LinkChannel,
    private readonly bufferedBytes: () => number,
    private readonly handlers: PeerLinkHandlers,
    private readonly log: Logger,
    /** This peer's traffic over all its links (the Replicator keeps one per peer); a fresh one if none. */
    readonly traffic: LinkTraffic = new LinkTraffic(),
  ) {
    this.origin = Object.freeze({ kind: 'peer', peerId: peer.peerRegion });
    traffic.contact(this.lastContact);
    peer.onFrame((frame) => this.receive(frame));
    channel.onClose(() => this.handleClosed());
    channel.onHeartbeat?.(() => this.heard());
  }

  get region(): string {
    return this.peer.peerRegion;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes written to the socket and not yet sent. */
  get buffered(): number {
    return this.bufferedBytes();
  }

  send(message: ReplicationMessage): void {
    if (this.closed) return;
    const frame = encodeReplicationMessage(message);
    if (message.type === 'update') this.updatesSent++;
    this.bytesSent += frame.byteLength;
    this.traffic.countSent(message.type, frame.byteLength);
    this.channel.send(frame);
  }

  /** Asks the peer what it holds of a document; resolves with its reply, or null on timeout or close. */
  askState(state: Omit<DocumentState, 'request'>, timeoutMs: number): Promise<DocumentState | null> {
    if (this.closed) return Promise.resolve(null);
    const request = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.requests.delete(request);
        resolve(null);
      }, timeoutMs);
      timer.unref();
      this.requests.set(request, { resolve, timer });
      this.send({ type: 'state', ...state, request });
    });
  }

  close(code: number, reason: string): void {
    this.channel.close(code, reason);
    this.handleClosed();
  }

  /** Heard from the peer: a frame or an answered heartbeat. */
  private heard(): void {
    this.lastContact = Date.now();
    this.traffic.contact(this.lastContact);
  }

  private receive(frame: Uint8Array): void {
    this.heard();
    let message: ReplicationMessage;
    try {
      message = decodeReplicationMessage(frame);
    } catch (err) {
      this.log.error({ err, peer: this.region }, 'malformed replication frame; closing the link');
      this.close(4490, 'malformed link frame');
      return;
    }
    if (message.type === 'update') this.updatesReceived++;
    this.traffic.countReceived(message.type, frame.byteLength);
    if (message.type === 'stateReply') {
      const waiting = this.requests.get(message.request);
      if (waiting) {
        this.requests.delete(message.request);
        clearTimeout(waiting.timer);
        waiting.resolve(message);
      }
      return;
    }
    this.handlers.onMessage(this, message);
  }

  private handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { resolve, timer } of this.requests.values()) {
      clearTimeout(timer);
      resolve(null);
    }
    this.requests.clear();
    this.handlers.onClosed(this);
  }
}
