/**
 * Which instance of a region holds its region links (issue #13, "Regions on top"). A region of
 * several instances shares one storage, so one durable backlog per peer region: one instance
 * dials the peers, accepts their links and drains that backlog, the others send their clients'
 * changes to it over the bus. Two holders at once would send every change and every catch-up
 * twice; none for long would stop replication.
 *
 * The lease is a Redis key holding the holder's instance id, set with NX and an expiry and
 * renewed every `renewMs` (a Lua script extends it only while it is still ours). An instance that
 * is killed lets go when the key expires, and another takes it at its next try.
 *
 * While Redis cannot be reached a holder keeps holding: nobody can take the lease from it then,
 * and replication between regions should not stop because the bus between instances did. Should
 * two instances both believe they hold it for a moment (Redis restarted empty, a holder cut off
 * from Redis), each change may cross a link twice: harmless (updates are idempotent, the backlog
 * is cleared by comparing state), only wasteful.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Who holds the links; the Replicator dials and accepts only while `held`. */
export interface LinkLease {
  readonly held: boolean;
  /** The instance that held it when last seen (null: nobody, or not known yet). */
  readonly holder: string | null;
  /** Called with the new value of `held` whenever it changes. */
  onChange(listener: (held: boolean) => void): void;
  start(): Promise<void>;
  /** Lets go (when it is ours) so another instance takes over at once. */
  stop(): Promise<void>;
}

/** One instance per region: it always holds its links. */
export class SoleInstanceLease implements LinkLease {
  readonly held = true;
  readonly holder = null;
  onChange(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** Extends the key if it is ours, or takes it if nobody holds it; returns the holder. */
const TAKE_OR_RENEW = `
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return ARGV[1]
end
if not current then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return current`;

const RELEASE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface RedisLinkLeaseOptions {
  /** How long a holder that stopped renewing keeps the lease (default 10 s). */
  ttlMs?: number;
  /** How often the holder renews and the others try to take it (default 1 s). */
  renewMs?: number;
}

export class RedisLinkLease implements LinkLease {
  /** Tries (to take or renew) that reached Redis, and those that could not (tests wait on these). */
  tries = 0;
  unreachableTries = 0;
  private isHeld = false;
  private lastHolder: string | null = null;
  private readonly listeners: ((held: boolean) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private trying: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly ttlMs: number;
  private readonly renewMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly instanceId: string,
    private readonly log: Logger,
    options: RedisLinkLeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.renewMs = options.renewMs ?? 1_000;
  }

  get held(): boolean {
    return this.isHeld;
  }

  get holder(): string | null {
    return this.lastHolder;
  }

  onChange(listener: (held: boolean) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await this.tryOnce();
    this.timer = setInterval(() => {
      this.trying = this.tryOnce();
    }, this.renewMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.trying;
    if (!this.isHeld) return;
    this.set(false);
    try {
      await this.redis.eval(RELEASE_IF_OURS, 1, this.key, this.instanceId);
    } catch (err) {
      this.log.debug({ err }, 'could not release the region link lease (it expires)');
    }
  }

  private async tryOnce(): Promise<void> {
    if (this.stopped) return;
    let holder: string;
    try {
      holder = String(await this.redis.eval(TAKE_OR_RENEW, 1, this.key, this.instanceId, String(this.ttlMs)));
    } catch (err) {
      // Unreachable Redis: keep what we have (see the header).
      this.unreachableTries++;
      this.log.debug({ err }, 'region link lease: Redis unreachable, keeping the current state');
      return;
    }
    if (this.stopped) return;
    this.tries++;
    this.lastHolder = holder;
    this.set(holder === this.instanceId);
  }

  private set(held: boolean): void {
    if (held === this.isHeld) return;
    this.isHeld = held;
    this.log.info({ instance: this.instanceId }, held ? 'this instance now holds the region links' : 'this instance no longer holds the region links');
    for (const listener of this.listeners) listener(held);
  }
}
