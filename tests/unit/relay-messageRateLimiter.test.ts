/**
 * The synchronous per-connection message limit decides exactly as the rate-limiter-flexible
 * limiter it replaced ({ points, duration: 1 }), message by message, without a promise each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MessageRateLimiter } from '../../server/relay/MessageRateLimiter';
import { seededRandom } from '../support/fuzzFrames';

afterEach(() => {
  vi.useRealTimers();
});

describe('MessageRateLimiter', () => {
  it('allows the maximum in one second and refuses the next message', () => {
    let now = 1_000;
    const limiter = new MessageRateLimiter(3, () => now);
    expect([limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true]);
    now += 999;
    expect(limiter.take()).toBe(false);
  });

  it('opens a new window one second after the first message of the previous one', () => {
    let now = 0;
    const limiter = new MessageRateLimiter(2, () => now);
    expect(limiter.take()).toBe(true); // window opens at 0
    now = 600;
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now = 1_000; // 0 + 1 s: a fresh window, anchored here (not at 600)
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now = 1_999;
    expect(limiter.take()).toBe(false);
    now = 2_000;
    expect(limiter.take()).toBe(true);
  });

  it('decides like RateLimiterMemory({ duration: 1 }) on random message timings', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    vi.setSystemTime(1_700_000_000_000);
    const random = seededRandom(7);
    for (const points of [1, 5, 20]) {
      const reference = new RateLimiterMemory({ points, duration: 1 });
      const ours = new MessageRateLimiter(points, () => Date.now());
      const key = `k${points}`;
      const decisions: [boolean, boolean][] = [];
      for (let i = 0; i < 2_000; i++) {
        // Bursts and pauses around the window length, including exact 1000 ms boundaries.
        const gap = random() < 0.05 ? 1_000 : random() < 0.1 ? Math.floor(random() * 1_500) : Math.floor(random() * (120 / points));
        vi.advanceTimersByTime(gap);
        const expected = await reference.consume(key).then(
          () => true,
          () => false,
        );
        decisions.push([ours.take(), expected]);
      }
      expect(decisions.filter(([, expected]) => !expected).length).toBeGreaterThan(50); // the limit was reached often
      expect(decisions.filter(([actual, expected]) => actual !== expected)).toEqual([]);
    }
  });
});
