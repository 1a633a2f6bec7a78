/**
 * The per-address connection cap (MAX_CONNECTIONS_PER_IP): a connection takes one of its
 * address's slots at the door and gives it back when it closes. One instance counts on its own
 * (LocalConnectionSlots); the instances of a region count together in Redis
 * (server/instances/RegionConnectionSlots.ts).
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface ConnectionSlots {
  /** Takes one of `ip`'s slots; false when the address holds its maximum already. */
  acquire(ip: string): Promise<boolean>;
  /** Gives back a slot `acquire` gave. */
  release(ip: string): void;
  /** Stops timers (the region's renewals). */
  close?(): void;
}

export class LocalConnectionSlots implements ConnectionSlots {
  // duration 0: a point is held for as long as the connection is open, and given back on close.
  private readonly limiter: RateLimiterMemory;

  constructor(maxPerIp: number) {
    this.limiter = new RateLimiterMemory({ points: maxPerIp, duration: 0 });
  }

  async acquire(ip: string): Promise<boolean> {
    try {
      await this.limiter.consume(ip);
      return true;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // A refused consume still counts its point: give it back.
      this.release(ip);
      return false;
    }
  }

  release(ip: string): void {
    // The memory limiter never fails; a rejection here would be a bug in it.
    void this.limiter.reward(ip);
  }
}
