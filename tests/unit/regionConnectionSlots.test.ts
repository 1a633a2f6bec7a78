/**
 * The per-address cap across instances (issue #13): RegionConnectionSlots of two "instances"
 * sharing a private Redis. Leases are short here so a killed instance's slots lapse quickly.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../server/log';
import { RegionConnectionSlots } from '../../server/instances/RegionConnectionSlots';
import { startRedisServer, type RedisServer } from '../support/redisServer';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const log = createLogger('silent');
const LEASE_MS = 1000;

async function redisServer(): Promise<RedisServer> {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  return redis;
}

async function instanceSlots(redis: RedisServer, maxPerIp = 2): Promise<RegionConnectionSlots> {
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  const slots = new RegionConnectionSlots(client, log, { maxPerIp, leaseMs: LEASE_MS, keyPrefix: 'test:slots' });
  cleanups.push(() => {
    slots.close();
    client.disconnect();
  });
  return slots;
}

describe('connection slots shared by a region\'s instances', () => {
  it('holds one address to the cap across instances, and gives a slot back when released', async () => {
    const redis = await redisServer();
    const [a, b] = [await instanceSlots(redis), await instanceSlots(redis)];
    expect(await a.acquire('10.0.0.1')).toBe(true);
    expect(await b.acquire('10.0.0.1')).toBe(true);
    expect(await a.acquire('10.0.0.1')).toBe(false);
    expect(await b.acquire('10.0.0.1')).toBe(false);
    expect(await b.acquire('10.0.0.2')).toBe(true); // another address has its own cap
    a.release('10.0.0.1');
    await vi.waitFor(async () => expect(await b.acquire('10.0.0.1')).toBe(true));
    expect(b.heldBy('10.0.0.1')).toBe(2);
  });

  it('keeps counting open connections from one lease window to the next', async () => {
    const redis = await redisServer();
    const [a, b] = [await instanceSlots(redis), await instanceSlots(redis)];
    expect(await a.acquire('10.0.0.1')).toBe(true);
    expect(await a.acquire('10.0.0.1')).toBe(true);
    const windowAt = Math.floor(Date.now() / LEASE_MS);
    await vi.waitFor(() => expect(Math.floor(Date.now() / LEASE_MS)).toBeGreaterThanOrEqual(windowAt + 2), { timeout: 5000 });
    expect(await b.acquire('10.0.0.1')).toBe(false);
  });

  it('lets a killed instance\'s slots lapse within a lease window', async () => {
    const redis = await redisServer();
    const [killed, b] = [await instanceSlots(redis), await instanceSlots(redis)];
    expect(await killed.acquire('10.0.0.1')).toBe(true);
    expect(await killed.acquire('10.0.0.1')).toBe(true);
    expect(await b.acquire('10.0.0.1')).toBe(false);
    killed.close(); // it never releases or renews again, as after a SIGKILL
    await vi.waitFor(async () => {
      const got = await b.acquire('10.0.0.1');
      if (got) b.release('10.0.0.1');
      expect(got).toBe(true);
    }, { timeout: 3 * LEASE_MS, interval: 100 });
  });

  it('counts each instance alone while Redis is down', async () => {
    const redis = await redisServer();
    const a = await instanceSlots(redis);
    await redis.kill();
    expect(await a.acquire('10.0.0.1')).toBe(true);
    expect(await a.acquire('10.0.0.1')).toBe(true);
    expect(await a.acquire('10.0.0.1')).toBe(false);
    a.release('10.0.0.1');
    expect(await a.acquire('10.0.0.1')).toBe(true);
  });
});
