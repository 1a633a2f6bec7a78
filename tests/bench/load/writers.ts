/** Drives writers at a fixed rate, spread evenly over each period so they do not fire together. */
import type { BenchClient } from './BenchClient';

/**
 * Every writer writes `opsPerSecond` operations a second from `startAt` until `endAt`
 * (performance.now() times). A writer whose timer fires late catches up, so the number of
 * operations stays fixed even when the load generator falls behind.
 */
export function runWriters(
  writers: BenchClient[],
  opsPerSecond: number,
  startAt: number,
  endAt: number,
  random: () => number,
  /** These writers' place when several processes drive a run's writers: all of them stay evenly spread. */
  slot = { index: 0, of: 1 },
): Promise<void> {
  const period = 1000 / opsPerSecond;
  return Promise.all(
    writers.map(
      (writer, i) =>
        new Promise<void>((resolve) => {
          let next = startAt + ((i * slot.of + slot.index) / (writers.length * slot.of)) * period;
          const tick = () => {
            const now = performance.now();
            while (next <= now && next < endAt) {
              writer.write(random);
              next += period;
            }
            if (next >= endAt) resolve();
            else setTimeout(tick, next - now);
          };
          setTimeout(tick, Math.max(0, next - performance.now()));
        }),
    ),
  ).then(() => undefined);
}
