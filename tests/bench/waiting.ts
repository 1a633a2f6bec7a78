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
