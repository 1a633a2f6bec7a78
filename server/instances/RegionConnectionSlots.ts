/**
 * MAX_CONNECTIONS_PER_IP across every instance of a region, counted in Redis with
 * rate-limiter-flexible's Redis store (issue #13). Behind a load balancer (TRUST_PROXY) one
 * address's connections land on several instances; counted apart, each instance would allow the
 * full cap.
 *
 * A plain counter in Redis would leak: an instance that is SIGKILLed never gives back the slots
 * its connections held, and their address would stay capped for good. So slots are leases in
 * windows of `leaseMs`: each instance counts its connections into the current window's key and,
 * as a new window starts, adds all the connections it still holds into the new key (which
 * expires some windows later). A killed instance stops renewing, so its connections stop counting
 * within one window. While Redis is unreachable each instance allows up to the cap on its own
 * (it keeps serving) and counts into Redis again from the next window.
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ConnectionSlots } from '../relay/ConnectionSlots';

export interface RegionConnectionSlotsOptions {
  maxPerIp: number;
  /** Length of a lease window; a killed instance's connections stop counting within one. */
  leaseMs?: number;
  keyPrefix?: string;
}

export class RegionConnectionSlots implements ConnectionSlots {
  private readonly limiter: RateLimiterRedis;
  private readonly leaseMs: number;
  /** This instance's open connections per address (what it renews each window). */
  private readonly held = new Map<string, number>();
  private window: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    redis: Redis,
    private readonly log: Logger,
    private readonly options: RegionConnectionSlotsOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: options.keyPrefix ?? 'concord:slots',
      points: options.maxPerIp,
      // A window's key outlives the window (renewals of late instances, clock skew), then expires.
      duration: Math.max(1, Math.ceil((3 * this.leaseMs) / 1000)),
      // Fail at once while Redis is down rather than queue: the door must not hang.
      rejectIfRedisNotReady: true,
    });
    this.window = this.currentWindow();
    this.scheduleRenewal();
  }

  async acquire(ip: string): Promise<boolean> {
    const key = this.keyOf(ip);
    // Held before Redis answers, so a renewal starting meanwhile counts this connection too.
    this.held.set(ip, (this.held.get(ip) ?? 0) + 1);
    try {
      await this.limiter.consume(key);
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.drop(ip);
        // A refused consume still counts its point: give it back.
        this.limiter.reward(key).catch((rewardErr: unknown) => this.log.debug({ err: rewardErr }, 'could not give back a refused connection slot'));
        return false;
      }
      // Redis unreachable: this instance alone holds the address to the cap until it is back.
      this.log.debug({ err }, 'connection slots: Redis unreachable; counting this instance\'s connections alone');
      if ((this.held.get(ip) ?? 0) <= this.options.maxPerIp) return true;
      this.drop(ip);
      return false;
    }
  }

  release(ip: string): void {
    if (!this.drop(ip)) return;
    this.limiter.reward(this.keyOf(ip)).catch((err: unknown) => this.log.debug({ err }, 'could not give back a connection slot (it lapses with its window)'));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Connections this instance holds for `ip` (tests). */
  heldBy(ip: string): number {
    return this.held.get(ip) ?? 0;
  }

  private drop(ip: string): boolean {
    const count = this.held.get(ip) ?? 0;
    if (count === 0) return false;
    if (count === 1) this.held.delete(ip);
    else this.held.set(ip, count - 1);
    return true;
  }

  /** A new window: every connection still open counts again, in the new window's key. */
  private renew(): void {
    this.window = this.currentWindow();
    for (const [ip, count] of this.held) {
      this.limiter.penalty(this.keyOf(ip), count).catch((err: unknown) => this.log.debug({ err }, 'could not renew connection slots (Redis down?)'));
    }
  }

  private scheduleRenewal(): void {
    if (this.closed) return;
    const untilNext = (this.window + 1) * this.leaseMs - Date.now();
    this.timer = setTimeout(() => {
      this.renew();
      this.scheduleRenewal();
    }, Math.max(0, untilNext));
    this.timer.unref();
  }

  private currentWindow(): number {
    return Math.floor(Date.now() / this.leaseMs);
  }

  private keyOf(ip: string): string {
    return `${ip}@${this.window}`;
  }
}
