/**
 * When storage is read for the instances of a region (StorageReconciler does the reading): one
 * document at once and once more shortly after (after a load or a gap), and every live document
 * in passes — the timer's, spread over half its interval, or at once after the bus came back — one
 * pass at a time, a few documents at once.
 */
import type { StorageReconciler } from './StorageReconciler';
import type { TrackedDocument } from './TrackedDocument';

/** After a gap, a load or the bus coming back, storage is read at once and once more this much later (the sender stores within ~50 ms). */
const FOLLOW_UP_MS = 250;
/** Documents read from storage at once by a pass. */
const RECONCILE_CONCURRENCY = 8;
/**
 * A timer pass while the bus is up spreads its reads over this share of healthyIntervalMs: read
 * in one burst, 100 documents' entries kept every socket of the instance waiting for a moment
 * every 5 s (a cluster of slow deliveries in the instances bench). A pass after a loss runs at once.
 */
const HEALTHY_PASS_SPREAD = 0.5;

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
    const pauseMs = lossLikely ? 0 : (this.healthyIntervalMs * HEALTHY_PASS_SPREAD) / Math.max(1, Math.ceil(live.length / RECONCILE_CONCURRENCY));
    for (let i = 0; i < live.length; i += RECONCILE_CONCURRENCY) {
      // A synchronous store (SQLite) answers within the same turn, so without this a whole pass
      // would run as one long task, with every socket of this instance waiting behind it.
      if (i > 0) await pause(pauseMs);
      // A pass after a loss, asked for while this one spreads its reads, reads every document at
      // once: it starts now (all() runs it next) instead of waiting for this one to end.
      if (this.stopped || (pauseMs > 0 && this.passLossLikely)) return;
      await Promise.all(live.slice(i, i + RECONCILE_CONCURRENCY).map(async (tracked) => {
        await this.reconciler.entries(tracked, lossLikely);
        await this.reconciler.access(tracked);
      }));
    }
  }
}

/** Lets the event loop run: at least one turn, or `ms` (a timer that does not keep the process alive). */
function pause(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ms <= 0) setImmediate(resolve);
    else setTimeout(resolve, ms).unref();
  });
}
