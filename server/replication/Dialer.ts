/** Dials one PEERS URL for the Replicator, and again (with back-off and jitter) whenever its link drops. */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { CLUSTER_LINK_PATH } from './linkFrames';
import type { Replicator } from './Replicator';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

export class Dialer {
  region: string | null = null;
  private delay = FIRST_DELAY_MS;
  /** Dials in a row that did not reach the peer (only the first is logged as a warning). */
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Another instance of this region holds the region links (RegionLinkLease): not dialing. */
  private paused = false;
  private socket: WebSocket | null = null;

  constructor(
    readonly url: URL,
    private readonly replicator: Replicator,
    private readonly log: Logger,
  ) {}

  dial(): void {
    if (this.stopped || this.paused) return;
    const target = new URL(CLUSTER_LINK_PATH, this.url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(target, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, handshakeTimeout: 5000 });
    this.socket = ws;
    let settled = false;
    const unreachable = (err?: Error) => {
      if (settled) return;
      settled = true;
      this.failures++;
      const fields = { peerUrl: this.url.toString(), failures: this.failures, err: err?.message };
      if (this.failures === 1) this.log.warn(fields, 'cannot reach a peer region; dialing again with back-off');
      else this.log.debug(fields, 'peer region still unreachable');
      this.dialLater();
    };
    ws.on('error', unreachable);
    ws.once('close', () => unreachable());
    // The handshake starts once the socket is open: a dial that never connects is not a refusal.
    ws.once('open', () => {
      settled = true;
      this.failures = 0;
      void this.replicator.establish(ws, 'dialer', this.url.toString()).then((link) => {
        if (link === null) {
          ws.terminate();
          this.dialLater();
          return;
        }
        this.region = link.region;
        this.delay = FIRST_DELAY_MS;
      });
    });
  }

  /** Waits between half the delay and the whole (jitter), then dials; the delay doubles up to 5 s. */
  dialLater(): void {
    if (this.stopped || this.paused || this.timer) return;
    const wait = this.delay * (0.5 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dial();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.halt();
    this.socket?.terminate();
  }

  /** Stops dialing until resume() (a link already up is the Replicator's to close). */
  pause(): void {
    this.paused = true;
    this.halt();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.delay = FIRST_DELAY_MS;
    this.dial();
  }

  private halt(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Only a dial still in progress: an open link's socket belongs to its PeerLink.
    if (this.socket && this.socket.readyState === this.socket.CONNECTING) this.socket.terminate();
  }
}
