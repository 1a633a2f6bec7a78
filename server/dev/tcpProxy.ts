/**
 * A TCP proxy a test (or `npm run regions`) controls, for real partitions: `cut()` destroys every connection through it
 * and refuses new ones (the peers see broken TCP, as when a link between datacenters fails);
 * `heal()` lets connections through again.
 *
 * It can also stand in for the distance between datacenters: with a one-way delay (`delayMs`,
 * `setDelay`) every chunk, in each direction, is passed on that long after it arrived, in order,
 * so a round trip through the proxy takes at least twice the delay. It is a link delay, not a
 * throttle: bandwidth is not limited, chunks are in flight side by side.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> of the proxy. */
  url: string;
  port: number;
  cut(): void;
  heal(): void;
  readonly isCut: boolean;
  /** Connections accepted so far (tests check a cut was real). */
  readonly connectionsAccepted: number;
  /** The one-way delay now (ms). */
  readonly delayMs: number;
  /** Chunks received and not passed on yet, over every connection and direction. */
  readonly chunksInFlight: number;
  /**
   * Changes the one-way delay, for open connections too. A chunk never overtakes an earlier one
   * of its direction: after lowering the delay, new chunks wait for those already in flight.
   */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** One-way delay added to every chunk in each direction (ms); 0 (the default) passes them on at once. */
  delayMs?: number;
}

/** `targetPort` is read for each new connection, so a proxy can exist before its target listens. */
export async function startTcpProxy(targetPort: () => number, targetHost = '127.0.0.1', options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const open = new Set<ProxiedConnection>();
  let cut = false;
  let accepted = 0;
  let delayMs = checkedDelay(options.delayMs ?? 0);
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    accepted++;
    const connection = new ProxiedConnection(client, net.connect(targetPort(), targetHost), () => delayMs, () => open.delete(connection));
    open.add(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => {
    for (const connection of open) connection.drop();
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      cut = true;
      dropAll();
    },
    heal() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    get connectionsAccepted() {
      return accepted;
    },
    get delayMs() {
      return delayMs;
    },
    get chunksInFlight() {
      let n = 0;
      for (const connection of open) n += connection.chunksInFlight;
      return n;
    },
    setDelay(ms: number) {
      delayMs = checkedDelay(ms);
    },
    async close() {
      cut = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkedDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a proxy delay must be a number of milliseconds ≥ 0, not ${ms}`);
  return ms;
}

/** A client socket and its upstream socket, joined by one delayed direction each way. */
class ProxiedConnection {
  private readonly toUpstream: DelayedDirection;
  private readonly toClient: DelayedDirection;
  private dropped = false;
  private closing = false;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    delayMs: () => number,
    private readonly onDropped: () => void,
  ) {
    const whenIdle = () => {
      if (this.closing && this.toUpstream.idle && this.toClient.idle) this.drop();
    };
    this.toUpstream = new DelayedDirection(client, upstream, delayMs, whenIdle);
    this.toClient = new DelayedDirection(upstream, client, delayMs, whenIdle);
    for (const socket of [client, upstream]) {
      // No Nagle: a proxy must not hold small writes back waiting for an ACK (with delayed ACKs
      // that adds up to 40 ms to a hop); the endpoints decide for themselves (ws turns it off too).
      socket.setNoDelay(true);
      // An error is a reset: nothing more gets through, in either direction.
      socket.on('error', () => this.drop());
      // A clean close lets what is still in flight arrive first, as on a real link.
      socket.on('close', () => {
        this.closing = true;
        whenIdle();
      });
    }
  }

  get chunksInFlight(): number {
    return this.toUpstream.inFlightCount + this.toClient.inFlightCount;
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.toUpstream.stop();
    this.toClient.stop();
    this.client.destroy();
    this.upstream.destroy();
    this.onDropped();
  }
}

/**
 * One direction of a proxied connection. Chunks (and the end of the stream) are passed on
 * `delayMs()` after they arrived, never before an earlier one; with no delay and nothing in
 * flight they go at once, as `pipe` would. Back-pressure is kept: a full destination pauses the
 * source.
 */
class DelayedDirection {
  /** In arrival order, passed on from the head only; `chunk: null` is the end of the stream. */
  private readonly inFlight: { due: number; chunk: Buffer | null }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly delayMs: () => number,
    private readonly onIdle: () => void,
  ) {
    from.on('data', (chunk: Buffer) => this.accept(chunk));
    from.on('end', () => this.accept(null));
    to.on('drain', () => from.resume());
  }

  get idle(): boolean {
    return this.inFlight.length === 0;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight.length = 0;
  }

  private accept(chunk: Buffer | null): void {
    const due = performance.now() + this.delayMs();
    // Only with nothing in flight: a chunk never overtakes an earlier one (the delay may have been lowered).
    if (this.idle && due <= performance.now()) {
      this.deliver(chunk);
      return;
    }
    this.inFlight.push({ due, chunk });
    if (!this.timer) this.schedule();
  }

  private schedule(): void {
    const head = this.inFlight[0];
    if (!head) return;
    // Rounded up: a timer that fired a fraction early finds the chunk not yet due and waits again.
    this.timer = setTimeout(this.flush, Math.max(0, Math.ceil(head.due - performance.now())));
  }

  private readonly flush = (): void => {
    this.timer = null;
    const now = performance.now();
    while (this.inFlight.length && this.inFlight[0]!.due <= now) this.deliver(this.inFlight.shift()!.chunk);
    if (this.idle) this.onIdle();
    else this.schedule();
  };

  private deliver(chunk: Buffer | null): void {
    if (this.to.destroyed || this.to.writableEnded) return;
    if (chunk === null) this.to.end();
    else if (!this.to.write(chunk)) this.from.pause();
  }
}
