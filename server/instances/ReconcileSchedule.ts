/**
 * When storage is read for the instances of a region (StorageReconciler does the reading): one
 * document at once and once more shortly after (after a load or a gap), and every live document
 * in passes — the timer's, or after the bus came back — one pass at a time, a few documents at once.
 */
import type { StorageReconciler } from './StorageReconciler';
import type { TrackedDocument } from './TrackedDocument';

/** After a gap, a load or the bus coming back, storage is read at once and once more this much later (the sender stores within ~50 ms). */
const FOLLOW_UP_MS = 250;
/** Documents read from storage at once by a pass. */
const RECONCILE_CONCURRENCY = 8;

export class ReconcileSchedule {
  private stopped = false;
  private passRunning = false;
  /** Another pass was asked for while one ran (the bus came back mid-pass). */
  private passAgain = false;
  /** The next pass follows a loss of messages (see all). */
  private passLossLikely = false;
  private followUpPass: NodeJS.Timeout | null = null;

  /** When the last pass started (performance.now()); a document is read as it loads, so none is due at start. */
  private lastPassAt = performance.now();

  constructor(
    private readonly reconciler: StorageReconciler,
    /** The documents a pass reads; asked at the start of every pass. */
    private readonly liveDocuments: () => TrackedDocument[],
    /** While the bus is up, a timer pass runs at most this often. */
    private readonly healthyIntervalMs: number,
  ) {}

  /**
   * After messages were lost (the subscriber was down): a pass now, and one more shortly after,
   * for what was published just before the bus came back and stored by its sender only after
   * the first pass read storage (no gap will show it: the senders' sequences start afresh).
   */
  allNowAndSoon(): void {
    void this.all(true);
    if (this.followUpPass) return;
    this.followUpPass = setTimeout(() => {
      this.followUpPass = null;
      void this.all(true);
    }, FOLLOW_UP_MS);
    this.followUpPass.unref();
  }

  /** The timer's: a pass at every tick while the bus is down, else once healthyIntervalMs has passed. */
  tick(busUp: boolean): void {
    // Ticks are reconcileIntervalMs apart and not exact: a little slack keeps "every 5 s" from becoming 6.
    if (busUp && performance.now() - this.lastPassAt < this.healthyIntervalMs - 100) return;
    void this.all(!busUp);
  }

  /** Reads storage for one document now and once more shortly after. */
  soon(tracked: TrackedDocument): void {
    void this.reconciler.entries(tracked);
    if (tracked.followUp) return;
    tracked.followUp = setTimeout(() => {
      tracked.followUp = null;
      void this.reconciler.entries(tracked);
    }, FOLLOW_UP_MS);
    tracked.followUp.unref();
  }

  /**
   * A pass over every live document; asked for during a pass, it runs once more after it.
   * `lossLikely`: messages were lost (the bus is down or came back), see StorageReconciler.entries.
   */
  async all(lossLikely: boolean): Promise<void> {
    if (this.stopped) return;
    if (lossLikely) this.passLossLikely = true;
    if (this.passRunning) {
      this.passAgain = true;
      return;
    }
    this.passRunning = true;
    try {
      do {
        this.passAgain = false;
        const loss = this.passLossLikely;
        this.passLossLikely = false;
        this.lastPassAt = performance.now();
        await this.pass(loss);
      } while (this.passAgain && !this.stopped);
    } finally {
      this.passRunning = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.followUpPass) clearTimeout(this.followUpPass);
  }

  private async pass(lossLikely: boolean): Promise<void> {
    const live = this.liveDocuments();
    for (let i = 0; i < live.length; i += RECONCILE_CONCURRENCY) {
      // A synchronous store (SQLite) answers within the same turn, so without this a whole pass
      // would run as one long task, with every socket of this instance waiting behind it.
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.stopped) return;
      await Promise.all(live.slice(i, i + RECONCILE_CONCURRENCY).map(async (tracked) => {
        await this.reconciler.entries(tracked, lossLikely);
        await this.reconciler.access(tracked);
      }));
    }
  }
}
