/**
 * One pending unload per document: a room nobody is connected to is unloaded a while after the
 * last one left, unless someone arrives (or a region link, a catch-up pass opens it) first.
 */
export class UnloadTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly delayMs: number) {}

  /** Runs `unload` after the delay, replacing any unload already pending for `docId`. */
  schedule(docId: string, unload: () => void): void {
    this.cancel(docId);
    const timer = setTimeout(() => {
      this.timers.delete(docId);
      unload();
    }, this.delayMs);
    timer.unref();
    this.timers.set(docId, timer);
  }

  cancel(docId: string): void {
    const timer = this.timers.get(docId);
    if (timer) clearTimeout(timer);
    this.timers.delete(docId);
  }

  /** Cancels every pending unload (shutdown unloads everything itself). */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
