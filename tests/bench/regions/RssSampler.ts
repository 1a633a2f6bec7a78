/**
 * The largest resident set of some processes over a stretch of time, sampled from
 * /proc/<pid>/status (VmRSS). The kernel's own high-water mark (VmHWM) covers a process's whole
 * life; this covers only the stretch measured (a catch-up, not the writes before it).
 */
import { rssBytes } from '../load/processStats';

export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: readonly number[]) {}

  start(intervalMs = 50): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling (after one last sample) and returns each process's largest VmRSS seen, in bytes. */
  stop(): Map<number, number> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return new Map(this.peaks);
  }

  private sample(): void {
    for (const pid of this.pids) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, rssBytes(pid)));
  }
}
