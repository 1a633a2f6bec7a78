/**
 * Messages per connection per second, counted synchronously on every incoming frame.
 *
 * Same rule as the rate-limiter-flexible RateLimiterMemory it replaces ({ points: max,
 * duration: 1 }): a one-second window opens at the first message after the previous window
 * ended, and the message that takes the count past `max` inside a window is refused. That
 * limiter answered with a promise (and a timer per key) for every frame; this is two numbers
 * per connection and no allocation.
 */
const monotonicNow = (): number => performance.now();

export class MessageRateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(
    private readonly maxPerSecond: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  /** Counts one message; false when it exceeds the limit of the current window. */
  take(): boolean {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count <= this.maxPerSecond;
  }
}
