import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KeyValueStorage } from '../../lib/client/browserStorage';
import {
  baseUrlOfRelay,
  KEPT_REGIONS_KEY,
  keepRegions,
  parseRegionsAnswer,
  readKeptRegions,
  RegionFailover,
  relayUrlOf,
  type RegionsAnswer,
} from '../../lib/client/regionFailover';

afterEach(() => vi.restoreAllMocks());

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

const HOME = 'http://a.example';
const ANSWER: RegionsAnswer = {
  region: 'a',
  regions: [
    // Home lists its public URL, which may differ from the page's origin (a proxy in front).
    { name: 'a', url: 'https://public-a.example' },
    { name: 'b', url: 'https://b.example' },
    { name: 'c', url: 'https://c.example/' },
    { name: 'd', url: null },
  ],
};
const OPTIONS = { maxFailedAttempts: 3, maxWaitMs: 10_000, firstHomeProbeMs: 2_000, maxHomeProbeMs: 8_000 };

function failed(failover: RegionFailover, times: number, now: number) {
  let moved = null;
  for (let i = 0; i < times; i++) moved = failover.connectionLost(now) ?? moved;
  return moved;
}

describe('the /api/regions answer', () => {
  it('keeps named regions with http(s) base URLs, trailing slashes dropped', () => {
    expect(parseRegionsAnswer(ANSWER)).toEqual({
      region: 'a',
      regions: [
        { name: 'a', url: 'https://public-a.example' },
        { name: 'b', url: 'https://b.example' },
        { name: 'c', url: 'https://c.example' },
        { name: 'd', url: null },
      ],
    });
  });

  it('refuses what is not an answer and drops entries it cannot use', () => {
    expect(parseRegionsAnswer(null)).toBeNull();
    expect(parseRegionsAnswer({ region: 3, regions: [] })).toBeNull();
    expect(parseRegionsAnswer({ region: 'a' })).toBeNull();
    const odd = parseRegionsAnswer({ region: null, regions: [{ name: '' }, 'x', { name: 'e', url: 'javascript:alert(1)' }, { name: 'f', url: 'not a url' }] });
    expect(odd).toEqual({ region: null, regions: [{ name: 'e', url: null }, { name: 'f', url: null }] });
  });

  it('is kept in localStorage and read back; a damaged record reads as none', () => {
    const storage = memoryStorage();
    expect(readKeptRegions(storage)).toBeNull();
    keepRegions(storage, parseRegionsAnswer(ANSWER)!);
    expect(readKeptRegions(storage)).toEqual(parseRegionsAnswer(ANSWER));
    storage.setItem(KEPT_REGIONS_KEY, '{oops');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(readKeptRegions(storage)).toBeNull();
    expect(warn).toHaveBeenCalledOnce();
  });

  it('maps base URLs to relay URLs and back', () => {
    expect(relayUrlOf('https://b.example')).toBe('wss://b.example/ws');
    expect(relayUrlOf('http://127.0.0.1:3200/concord')).toBe('ws://127.0.0.1:3200/concord/ws');
    expect(baseUrlOfRelay('wss://a.example/ws')).toBe('https://a.example');
    expect(baseUrlOfRelay('ws://127.0.0.1:3107/ws')).toBe('http://127.0.0.1:3107');
  });
});

describe('RegionFailover', () => {
  it('starts at home, at the page’s own URL, and lists the others that have a URL', () => {
    const failover = new RegionFailover(HOME, parseRegionsAnswer(ANSWER), 0, OPTIONS);
    expect(failover.current).toEqual({ name: 'a', baseUrl: HOME });
    expect(failover.atHome).toBe(true);
    expect(failover.known.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('gives up on a region after the set number of failed connections, then tries the next, round and round', () => {
    const failover = new RegionFailover(HOME, ANSWER, 0, OPTIONS);
    failover.synced();
    expect(failed(failover, 2, 100)).toBeNull();
    expect(failover.current.name).toBe('a');
    expect(failover.connectionLost(200)).toEqual({ name: 'b', baseUrl: 'https://b.example' });
    expect(failover.atHome).toBe(false);
    expect(failed(failover, 3, 300)?.name).toBe('c');
    expect(failed(failover, 3, 400)?.name).toBe('a');
  });

  it('a sync forgives earlier failures', () => {
    const failover = new RegionFailover(HOME, ANSWER, 0, OPTIONS);
    failed(failover, 2, 100);
    failover.synced();
    expect(failed(failover, 2, 200)).toBeNull();
    expect(failover.current.name).toBe('a');
  });

  it('gives up on a region with no synced connection for maxWaitMs (a socket that never opens nor fails)', () => {
    const failover = new RegionFailover(HOME, ANSWER, 0, OPTIONS);
    expect(failover.tick(9_999)).toBeNull();
    expect(failover.tick(10_000)?.name).toBe('b');
    // The wait starts again on the new region.
    expect(failover.tick(19_999)).toBeNull();
    failover.synced();
    expect(failover.tick(60_000)).toBeNull();
    // It counts from when the synced connection was lost, not from when it began.
    failover.connectionLost(70_000);
    expect(failover.tick(79_999)).toBeNull();
    expect(failover.tick(80_000)?.name).toBe('c');
  });

  it('does not count time spent offline', () => {
    const failover = new RegionFailover(HOME, ANSWER, 0, OPTIONS);
    failed(failover, 2, 0);
    failover.networkBack(50_000);
    expect(failover.tick(59_999)).toBeNull();
    expect(failover.connectionLost(59_999)).toBeNull();
    expect(failover.tick(60_000)?.name).toBe('b');
  });

  it('stays put when it knows no other region (one server, or home never answered)', () => {
    const alone = new RegionFailover(HOME, null, 0, OPTIONS);
    expect(alone.current).toEqual({ name: null, baseUrl: HOME });
    expect(failed(alone, 10, 100)).toBeNull();
    expect(alone.tick(1_000_000)).toBeNull();
    expect(alone.current.baseUrl).toBe(HOME);
  });

  it('probes home while away, goes back when it answers, and doubles the probe interval after a return that failed', () => {
    const failover = new RegionFailover(HOME, ANSWER, 0, OPTIONS);
    failover.synced();
    expect(failover.homeProbeDue(1_000_000)).toBe(false); // at home: nothing to probe
    expect(failed(failover, 3, 1_000)?.name).toBe('b');
    failover.synced();
    expect(failover.homeProbeDue(2_999)).toBe(false);
    expect(failover.homeProbeDue(3_000)).toBe(true);
    failover.homeProbeFailed(3_000); // next in 4 s
    expect(failover.homeProbeDue(6_999)).toBe(false);
    expect(failover.homeProbeDue(7_000)).toBe(true);
    expect(failover.homeAnswered(7_000)).toEqual({ name: 'a', baseUrl: HOME });
    expect(failover.homeAnswered(7_000)).toBeNull(); // already there
    // Home answers HTTP but its relay does not: leave again, and probe less often (8 s, the cap).
    expect(failed(failover, 3, 8_000)?.name).toBe('b');
    expect(failover.homeProbeDue(15_999)).toBe(false);
    expect(failover.homeProbeDue(16_000)).toBe(true);
    failover.homeAnswered(16_000);
    failover.synced();
    // A good return resets the interval for the next outage.
    expect(failed(failover, 3, 20_000)?.name).toBe('b');
    expect(failover.homeProbeDue(21_999)).toBe(false);
    expect(failover.homeProbeDue(22_000)).toBe(true);
  });

  it('learns a new list without moving, unless the region it is on is no longer listed', () => {
    const failover = new RegionFailover(HOME, null, 0, OPTIONS);
    expect(failover.learn(ANSWER, 0)).toBeNull();
    expect(failover.current.name).toBe('a');
    failed(failover, 3, 0);
    failed(failover, 3, 0);
    expect(failover.current.name).toBe('c');
    const withoutB = { region: 'a', regions: ANSWER.regions.filter((r) => r.name !== 'b') };
    expect(failover.learn(withoutB, 0)).toBeNull();
    expect(failover.current.name).toBe('c');
    const withoutC = { region: 'a', regions: ANSWER.regions.filter((r) => r.name !== 'c') };
    expect(failover.learn(withoutC, 0)).toEqual({ name: 'a', baseUrl: HOME });
  });
});
