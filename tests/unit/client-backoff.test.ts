import { describe, expect, it } from 'vitest';
import { FIRST_RETRY_MS, MAX_RETRY_MS, reconnectDelay } from '../../lib/client/backoff';

describe('reconnectDelay', () => {
  it('doubles its ceiling per attempt up to the maximum, and never waits less than half of it', () => {
    expect(reconnectDelay(1, 0.999999)).toBe(FIRST_RETRY_MS);
    expect(reconnectDelay(1, 0)).toBe(FIRST_RETRY_MS / 2);
    expect(reconnectDelay(2, 0.999999)).toBe(FIRST_RETRY_MS * 2);
    expect(reconnectDelay(4, 0)).toBe(FIRST_RETRY_MS * 4);
    expect(reconnectDelay(30, 0.999999)).toBe(MAX_RETRY_MS);
    expect(reconnectDelay(30, 0)).toBe(MAX_RETRY_MS / 2);
  });

  it('spreads clients that failed at the same moment', () => {
    const delays = new Set(Array.from({ length: 50 }, (_, i) => reconnectDelay(6, i / 50)));
    expect(delays.size).toBeGreaterThan(40);
  });
});
