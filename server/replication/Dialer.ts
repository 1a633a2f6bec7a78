/** Dials one PEERS URL for the Replicator, and again (with back-off and jitter) whenever its link drops. */
import WebSocket from 'ws';
import { CLUSTER_LINK_PATH } from './linkFrames';
import type { Replicator } from './Replicator';

export class Dialer {
  region: string | null = null;
  private delay: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private socket: WebSocket | null = null;

  constructor(
    readonly url: URL,
    private readonly replicator: Replicator,
  ) {
    this.delay = 100;
  }

  dial(): void {
    if (this.stopped) return;
    const target = new URL(CLUSTER_LINK_PATH, this.url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(target, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, handshakeTimeout: 5000 });
    this.socket = ws;
    let settled = false;
    ws.on('error', () => {
      if (!settled) {
        settled = true;
        this.dialLater();
      }
    });
    ws.once('close', () => {
      if (!settled) {
        settled = true;
        this.dialLater();
      }
    });
    void this.replicator.establish(ws, 'dialer', this.url.toString()).then((link) => {
      if (link === null) {
        if (!settled) {
          settled = true;
          ws.terminate();
          this.dialLater();
        }
        return;
      }
      settled = true;
      this.region = link.region;
      this.delay = 100;
    });
  }

  dialLater(): void {
    if (this.stopped || this.timer) return;
    const wait = this.delay * (1 + Math.random());
    this.delay = Math.min(this.delay * 2, 5000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dial();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.terminate();
  }
}
