/**
 * The region link lease (issue #13, item 5): which of a region's instances holds its links.
 * Several RedisLinkLease "instances" on a private Redis, with a short lease so a killed holder's
 * lapses quickly.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../server/log';
import { RedisLinkLease } from '../../server/replication/RegionLinkLease';
import { startRedisServer, type RedisServer } from '../support/redisServer';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const log = createLogger('silent');
const KEY = 'test:region-links';
const TTL_MS = 600;
const RENEW_MS = 100;

async function redisServer(): Promise<RedisServer> {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  return redis;
}

async function connect(redis: RedisServer): Promise<Redis> {
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on('error', () => undefined); // Redis is killed on purpose below.
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  cleanups.push(() => client.disconnect());
  return client;
}

async function lease(redis: RedisServer, instanceId: string): Promise<{ lease: RedisLinkLease; client: Redis; changes: boolean[] }> {
  const client = await connect(redis);
  const made = new RedisLinkLease(client, KEY, instanceId, log, { ttlMs: TTL_MS, renewMs: RENEW_MS });
  const changes: boolean[] = [];
  made.onChange((held) => changes.push(held));
  await made.start();
  cleanups.push(() => made.stop());
  return { lease: made, client, changes };
}

describe('the region link lease', () => {
  it('is held by one instance at a time, renewed while it lives, and handed over when it stops', async () => {
    const redis = await redisServer();
    const observer = await connect(redis);
    const first = await lease(redis, 'eu-1');
    const second = await lease(redis, 'eu-2');
    expect(first.lease.held).toBe(true);
    expect(second.lease.held).toBe(false);
    expect(second.lease.holder).toBe('eu-1');

    // Renewed: eu-2 tries again and again for twice the lease's length and finds it eu-1's every time.
    const triesBefore = second.lease.tries;
    await vi.waitFor(() => expect(second.lease.tries - triesBefore).toBeGreaterThanOrEqual((2 * TTL_MS) / RENEW_MS), { timeout: 10_000, interval: 20 });
    expect(await observer.get(KEY)).toBe('eu-1');
    expect(second.lease.holder).toBe('eu-1');
    expect(second.changes).toEqual([]);

    await first.lease.stop();
    expect(first.lease.held).toBe(false);
    await vi.waitFor(() => expect(second.lease.held).toBe(true), { timeout: 5_000, interval: 20 });
    expect(await observer.get(KEY)).toBe('eu-2');
    expect(second.changes).toEqual([true]);
  });

  it('lapses when its holder stops renewing (killed), and another instance takes it', async () => {
    const redis = await redisServer();
    const holder = await lease(redis, 'eu-1');
    const standby = await lease(redis, 'eu-2');
    expect(holder.lease.held).toBe(true);
    // A killed process renews nothing: its connection is gone, and so is its lease after TTL_MS.
    holder.client.disconnect();
    await vi.waitFor(() => expect(standby.lease.held).toBe(true), { timeout: 5_000, interval: 20 });
    expect(standby.lease.holder).toBe('eu-2');
  });

  it('keeps holding while Redis is unreachable (nobody can take it then), and still holds it when Redis is back', async () => {
    const redis = await redisServer();
    const holder = await lease(redis, 'eu-1');
    expect(holder.lease.held).toBe(true);
    await redis.kill();
    await vi.waitFor(() => expect(holder.lease.unreachableTries).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 20 });
    expect(holder.lease.held).toBe(true);
    await redis.start();
    // Redis came back empty: the holder sets the key again at its next renewal.
    const observer = await connect(redis);
    await vi.waitFor(async () => expect(await observer.get(KEY)).toBe('eu-1'), { timeout: 10_000, interval: 50 });
    expect(holder.changes).toEqual([true]);
  });
});
