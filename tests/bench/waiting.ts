/** Waiting helpers for benchmarks. */
import { cpuMillis } from './load/processStats';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Like withTimeout, but also gives up early when nothing moves: `progress()` (a count that grows
 * while the work advances) and the CPU time of process `pid` both stayed the same for `stallMs`.
 * A server that stopped relaying then fails its run in a minute instead of the whole `maxMs`.
 */
export async function untilDoneOrStalled<T>(
  promise: Promise<T>,
  what: string,
  options: { pid: number; progress: () => number; stallMs: number; maxMs: number },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  const stalled = new Promise<never>((_, reject) => {
    let last = { progress: options.progress(), cpu: cpuMillis(options.pid), at: started };
    timer = setInterval(() => {
      const now = performance.now();
      let cpu = last.cpu;
      try {
        cpu = cpuMillis(options.pid);
      } catch (err) {
        reject(new Error(`the server process ${options.pid} is gone while waiting for ${what}: ${(err as Error).message}`));
        return;
      }
      const progress = options.progress();
      if (progress !== last.progress || cpu - last.cpu >= 20) last = { progress, cpu, at: now };
      else if (now - last.at >= options.stallMs) {
        reject(new Error(`gave up waiting for ${what}: no progress (at ${progress}) and the server idle for ${Math.round(options.stallMs / 1000)} s`));
      }
      if (now - started >= options.maxMs) reject(new Error(`timed out after ${options.maxMs} ms waiting for ${what}`));
    }, 1_000);
  });
  return Promise.race([promise, stalled]).finally(() => clearInterval(timer));
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
    if (now - before < 20) return;
    if (performance.now() - started > maxMs) throw new Error(`process ${pid} was still busy after ${maxMs} ms`);
    before = now;
  }
}
