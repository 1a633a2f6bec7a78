/**
 * The pub/sub transport between the instances of one region: two Redis connections (ioredis),
 * one that publishes and one in subscriber mode. It promises nothing about delivery — pub/sub
 * drops whatever is published while a subscriber's connection is down, and everything when
 * Redis restarts — so InstanceSync treats it as a fast path and storage as the truth.
 *
 * Publishing never queues: while the publisher is down a message is dropped at once (counted),
 * so an outage cannot grow memory, and receivers see the gap in the sender's sequence. The wanted
 * subscriptions are kept here and made again each time the subscriber reconnects (ioredis's own
 * resubscription is off, so "subscribed again" is a moment we know: `up(missedMessages = true)`).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type BusState = 'connecting' | 'up' | 'down';

export interface BusHandlers {
  message(channel: string, message: Uint8Array): void;
  /** A message on a channel matched by a pattern subscription (psubscribe), apart from `message`. */
  patternMessage?(channel: string, message: Uint8Array): void;
  /**
   * Both connections are ready and every wanted channel is subscribed. `missedMessages`: the
   * subscriber was disconnected since the last time (not only the publisher), so messages
   * published meanwhile never arrived.
   */
  up(missedMessages: boolean): void;
  down(): void;
}

export interface RedisBusOptions {
  /** How long a new subscription is waited for before a load goes on without it. */
  subscribeTimeoutMs?: number;
}

/** Reconnect quickly, then every second at most: an instance must notice Redis is back soon. */
const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 1000);
/** Channels per SUBSCRIBE when resubscribing after a reconnect. */
const SUBSCRIBE_CHUNK = 500;

export class RedisBus {
  /** Also the connection other Redis users of this instance share (the connection slots). */
  readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly wanted = new Set<string>();
  private readonly wantedPatterns = new Set<string>();
  private handlers: BusHandlers | null = null;
  private publisherReady = false;
  private subscriberReady = false;
  private currentState: BusState = 'connecting';
  private everUp = false;
  /** The subscriber lost its connection since the bus was last up. */
  private subscriberDropped = false;
  private closed = false;
  readonly counts = { published: 0, publishFailed: 0, received: 0, reconnects: 0 };

  constructor(
    url: string,
    private readonly log: Logger,
    private readonly options: RedisBusOptions = {},
  ) {
    const common = { lazyConnect: true, retryStrategy, connectTimeout: 2000, commandTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false } as const;
    // Auto-pipelining: the PUBLISHes (and lease commands) of one event-loop turn go out in one
    // write, not one syscall each; order is kept, so each sender's sequence still arrives in order.
    this.publisher = new Redis(url, { ...common, connectionName: 'concord-publisher', enableAutoPipelining: true });
    this.subscriber = new Redis(url, { ...common, connectionName: 'concord-subscriber', autoResubscribe: false });
    this.publisher.on('ready', () => {
      this.publisherReady = true;
      this.updateState();
    });
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.counts.received++;
      this.handlers?.message(channel.toString(), message);
    });
    this.subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
      this.counts.received++;
      this.handlers?.patternMessage?.(channel.toString(), message);
    });
    for (const [connection, name] of [[this.publisher, 'publisher'], [this.subscriber, 'subscriber']] as const) {
      connection.on('close', () => {
        if (name === 'publisher') this.publisherReady = false;
        else {
          this.subscriberReady = false;
          if (this.everUp) this.subscriberDropped = true;
        }
        this.updateState();
      });
      // Every failed reconnect emits one; the state change is what operators need to see.
      connection.on('error', (err: Error) => this.log.debug({ err, connection: name }, 'Redis connection error'));
    }
  }

  get state(): BusState {
    return this.currentState;
  }

  /** Connects (in the background: an instance serves its own clients while Redis is down). */
  start(handlers: BusHandlers): void {
    this.handlers = handlers;
    for (const connection of [this.publisher, this.subscriber]) {
      connection.connect().catch((err: unknown) => this.log.warn({ err }, 'Redis is not reachable yet; retrying in the background'));
    }
  }

  /** Publishes now, or drops it (returns false) while the publisher is not connected. */
  publish(channel: string, message: Uint8Array): boolean {
    if (!this.publisherReady) {
      this.counts.publishFailed++;
      return false;
    }
    this.counts.published++;
    this.publisher.publish(channel, Buffer.from(message.buffer, message.byteOffset, message.byteLength)).catch((err: unknown) => {
      this.counts.publishFailed++;
      this.log.debug({ err, channel }, 'publish failed');
    });
    return true;
  }

  /**
   * Subscribes to `channel` (also after every reconnect). Resolves once Redis confirmed it, or
   * at once while the subscriber is down, or after subscribeTimeoutMs; never rejects.
   */
  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    if (!this.subscriberReady) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.subscribeTimeoutMs ?? 1000);
      timer.unref();
    });
    const confirmed = this.subscriber.subscribe(channel).then(
      () => undefined,
      (err: unknown) => this.log.debug({ err, channel }, 'subscribe failed; made again when the subscriber reconnects'),
    );
    await Promise.race([confirmed, timeout]);
    clearTimeout(timer);
  }

  /** Subscribes to every channel matching `pattern` (also after every reconnect); best effort, like subscribe. */
  psubscribe(pattern: string): void {
    this.wantedPatterns.add(pattern);
    if (!this.subscriberReady) return;
    this.subscriber.psubscribe(pattern).catch((err: unknown) => this.log.debug({ err, pattern }, 'psubscribe failed; made again when the subscriber reconnects'));
  }

  punsubscribe(pattern: string): void {
    if (!this.wantedPatterns.delete(pattern) || !this.subscriberReady) return;
    this.subscriber.punsubscribe(pattern).catch((err: unknown) => this.log.debug({ err, pattern }, 'punsubscribe failed'));
  }

  unsubscribe(channel: string): void {
    if (!this.wanted.delete(channel) || !this.subscriberReady) return;
    this.subscriber.unsubscribe(channel).catch((err: unknown) => this.log.debug({ err, channel }, 'unsubscribe failed'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers = null;
    await Promise.allSettled([this.publisher, this.subscriber].map((connection) => connection.quit()));
    for (const connection of [this.publisher, this.subscriber]) connection.disconnect();
  }

  /** After (re)connecting: subscribes to every wanted channel, including those wanted meanwhile. */
  private async resubscribe(): Promise<void> {
    const done = new Set<string>();
    try {
      for (;;) {
        const todo = Array.from(this.wanted).filter((channel) => !done.has(channel));
        if (todo.length === 0) break;
        for (let i = 0; i < todo.length; i += SUBSCRIBE_CHUNK) await this.subscriber.subscribe(...todo.slice(i, i + SUBSCRIBE_CHUNK));
        for (const channel of todo) done.add(channel);
      }
      const unwanted = Array.from(done).filter((channel) => !this.wanted.has(channel));
      if (unwanted.length > 0) await this.subscriber.unsubscribe(...unwanted);
      if (this.wantedPatterns.size > 0) await this.subscriber.psubscribe(...this.wantedPatterns);
    } catch (err) {
      // The connection dropped again: the next 'ready' tries again.
      this.log.debug({ err }, 'resubscribing failed');
      return;
    }
    this.subscriberReady = true;
    this.updateState();
  }

  private updateState(): void {
    if (this.closed) return;
    const next: BusState = this.publisherReady && this.subscriberReady ? 'up' : this.everUp ? 'down' : 'connecting';
    if (next === this.currentState) return;
    this.currentState = next;
    if (next === 'up') {
      const resumed = this.everUp;
      const missedMessages = this.subscriberDropped;
      this.everUp = true;
      this.subscriberDropped = false;
      if (resumed) this.counts.reconnects++;
      this.log.info({ resumed, missedMessages }, 'bus between instances up');
      this.handlers?.up(missedMessages);
    } else if (next === 'down') {
      this.log.warn('bus between instances down: serving this instance\'s clients, converging through storage until Redis is back');
      this.handlers?.down();
    }
  }
}
