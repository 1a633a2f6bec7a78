/**
 * Only one instance compacts a document at a time (issue #13): every instance stores every change
 * it applies, so all of them would reach the compaction threshold together and write the same
 * snapshot. Before compacting, an instance takes the document's lease in Redis (SET NX with an
 * expiry); the others skip that compaction.
 *
 * The lease only saves work. A lease that expires mid-compaction, is lost with a Redis restart,
 * or cannot be taken because Redis is down lets two instances compact at once, and that is safe:
 * each compacts only entries its document is known to hold (compactableThrough), storage never
 * moves a snapshot backwards, and a store's compact is one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Deletes the lease only if it is still ours (it may have expired and been taken by another). */
const RELEASE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class CompactionLeases {
  /** Compactions skipped because another instance held the lease. */
  refused = 0;

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly keyPrefix: string,
    /** Longer than any compaction takes; a holder that dies lets go after this. */
    private readonly ttlMs = 30_000,
  ) {}

  /** The lease on compacting `docId` (call the result to let go), or null while another instance holds it. */
  async acquire(docId: string): Promise<(() => void) | null> {
    const key = `${this.keyPrefix}${docId}`;
    const token = randomUUID();
    let reply: string | null;
    try {
      reply = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    } catch (err) {
      // Redis unreachable: compact without a lease (safe, see above).
      this.log.debug({ err, docId }, 'compaction lease unavailable; compacting without one');
      return () => {};
    }
    if (reply !== 'OK') {
      this.refused++;
      return null;
    }
    return () => {
      this.redis.eval(RELEASE_IF_OURS, 1, key, token).catch((err: unknown) => this.log.debug({ err, docId }, 'could not release a compaction lease (it expires)'));
    };
  }
}
