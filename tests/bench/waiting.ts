/** Waiting helpers for benchmarks. */
import { cpuMillis } from './load/processStats';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A process that used less CPU than this over a second is idle (2% of a core). */
const IDLE_CPU_MS_PER_SECOND = 20;

/**
 * Like withTimeout, but also gives up early when nothing moves: `progress()` (a count that grows
 * while the work advances) stayed the same and process `pid` was idle every second for `stallMs`.
 * A server that stopped relaying then fails its run in a minute instead of the whole `maxMs`.
 */
export function untilDoneOrStalled<T>(
  promise: Promise<T>,
  what: string,
  options: { pid: number; progress: () => number; stallMs: number; maxMs: number },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    let progress = options.progress();
    let cpu = cpuMillis(options.pid);
    let movedAt = performance.now();
    timer = setInterval(() => {
      const cpuBefore = cpu;
      try {
        cpu = cpuMillis(options.pid);
      } catch (err) {
        reject(new Error(`the server process ${options.pid} is gone while waiting for ${what}: ${(err as Error).message}`));
        return;
      }
      const progressBefore = progress;
      progress = options.progress();
      const now = performance.now();
      if (progress !== progressBefore || cpu - cpuBefore >= IDLE_CPU_MS_PER_SECOND) movedAt = now;
      else if (now - movedAt >= options.stallMs) {
        reject(new Error(`gave up waiting for ${what}: no progress (at ${progress}) and the server idle for ${Math.round(options.stallMs / 1000)} s`));
      }
    }, 1_000);
  });
  return withTimeout(Promise.race([promise, stalled]), options.maxMs, what).finally(() => clearInterval(timer));
}

/**
 * Resolves once process `pid` has used under 2% of a core for a whole second. For servers that
 * cannot tell us when their writes are done (the y-websocket server's LevelDB writes), before we
 * stop them; what they stored is then checked by loading it.
 */
export async function untilIdle(pid: number, maxMs = 120_000): Promise<void> {
  const started = performance.now();
  let before = cpuMillis(pid);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = cpuMillis(pid);
    if (now - before < IDLE_CPU_MS_PER_SECOND) return;
    if (performance.now() - started > maxMs) throw new Error(`process ${pid} was still busy after ${maxMs} ms`);
    before = now;
  }
}
