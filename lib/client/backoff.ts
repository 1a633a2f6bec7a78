/**
 * Reconnection delays: exponential backoff with "equal jitter", so a server that restarts is
 * not hit by every client at the same instant, while each client still retries soon.
 */

export const FIRST_RETRY_MS = 200;
export const MAX_RETRY_MS = 5000;

/** Delay before reconnection attempt `attempt` (1 = the first retry); `random` is in [0, 1). */
export function reconnectDelay(attempt: number, random: number = Math.random(), maxMs = MAX_RETRY_MS): number {
  const ceiling = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}
