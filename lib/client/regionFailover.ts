/**
 * Which region the editor talks to (issue #12 item 6). The page's own server (its "home") says
 * which regions exist and where (`GET /api/regions`); the list is kept in localStorage so a page
 * opened offline, or while home is gone for good, still knows where else to go. When the current
 * region stops answering, the editor moves to the next one; the local replica brings every edit
 * along, so nothing is lost. Pure and framework-free: DocumentSession feeds it events and a clock
 * and points the provider wherever it says.
 */
import type { KeyValueStorage } from './browserStorage';

/** A region the editor can connect to. `name` is null for a home that never said its name. */
export interface Region {
  name: string | null;
  /** Its base URL, `http(s)://host[:port][/path]`; the relay is at `<base>/ws`. */
  baseUrl: string;
}

/** The body of `GET /api/regions`: the answering region first. */
export interface RegionsAnswer {
  region: string | null;
  regions: { name: string; url: string | null }[];
}

export interface FailoverOptions {
  /** Connections in a row that closed without syncing before the region is given up. */
  maxFailedAttempts: number;
  /** Longest time without a synced connection (while online) before the region is given up. */
  maxWaitMs: number;
  /** First wait before asking home whether it is back; doubles after each failed probe. */
  firstHomeProbeMs: number;
  maxHomeProbeMs: number;
}

export const DEFAULT_FAILOVER_OPTIONS: FailoverOptions = {
  // With the provider's back-off (about 0.1, 0.2, 0.4 s) three refused connections take ~1 s.
  maxFailedAttempts: 3,
  // Covers a socket that never opens nor fails (a host that drops packets): no close event comes.
  maxWaitMs: 10_000,
  firstHomeProbeMs: 2_000,
  maxHomeProbeMs: 30_000,
};

/** localStorage key of the kept answer (one per origin: the origin is the home). */
export const KEPT_REGIONS_KEY = 'concord:regions';

/** A `RegionsAnswer` from untrusted JSON (the network, or what localStorage held), or null. */
export function parseRegionsAnswer(value: unknown): RegionsAnswer | null {
  if (typeof value !== 'object' || value === null) return null;
  const { region, regions } = value as Record<string, unknown>;
  if (region !== null && typeof region !== 'string') return null;
  if (!Array.isArray(regions)) return null;
  const out: RegionsAnswer['regions'] = [];
  for (const entry of regions as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { name, url } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') continue;
    out.push({ name, url: typeof url === 'string' ? baseUrlOrNull(url) : null });
  }
  return { region, regions: out };
}

export function readKeptRegions(storage: KeyValueStorage): RegionsAnswer | null {
  const raw = storage.getItem(KEPT_REGIONS_KEY);
  if (raw === null) return null;
  try {
    return parseRegionsAnswer(JSON.parse(raw));
  } catch (err) {
    console.warn('concord: the kept list of regions is not JSON; ignoring it', err);
    return null;
  }
}

export function keepRegions(storage: KeyValueStorage, answer: RegionsAnswer): void {
  storage.setItem(KEPT_REGIONS_KEY, JSON.stringify(answer));
}

/** The relay's WebSocket base for a region's base URL: `http://h` → `ws://h/ws`. */
export function relayUrlOf(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/ws`;
}

/** The inverse of `relayUrlOf`, for the relay URL the page was given: `wss://h/ws` → `https://h`. */
export function baseUrlOfRelay(relayUrl: string): string {
  return relayUrl.replace(/^ws/, 'http').replace(/\/ws\/*$/, '');
}

/** `http(s)://…` without trailing slashes, query or fragment; null for anything else. */
function baseUrlOrNull(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null; // not a URL: a region we cannot reach, like one with no URL
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * The editor's choice of region. Methods that return a `Region` have already moved to it: the
 * caller points its connection there. Order of preference: home, then the others as home lists
 * them, round and round.
 *
 * Back home when it answers again: home is the region the page came from — normally the nearest,
 * the one routing chose for this user, where "saved" means what the user expects — and a
 * failover is meant to bridge an outage, not to pin a tab to a far region for the rest of the
 * day. While away, home is probed (an HTTP GET, cheap); a return that fails before syncing doubles
 * the probe interval, so a half-broken home does not make the tab flap.
 */
export class RegionFailover {
  private regions: Region[];
  private index = 0;
  private failedAttempts = 0;
  /** Since when the current region has had no synced connection; null while it has one. */
  private waitingSince: number | null;
  private homeProbeDelay: number;
  private nextHomeProbe = Number.POSITIVE_INFINITY;
  /** Returned home on a probe and not synced there yet. */
  private returning = false;
  private readonly options: FailoverOptions;

  constructor(
    private readonly homeBaseUrl: string,
    known: RegionsAnswer | null,
    now: number,
    options: Partial<FailoverOptions> = {},
  ) {
    this.options = { ...DEFAULT_FAILOVER_OPTIONS, ...options };
    this.homeProbeDelay = this.options.firstHomeProbeMs;
    this.regions = this.listFrom(known);
    this.waitingSince = now;
  }

  get current(): Region {
    return this.regions[this.index]!;
  }

  get atHome(): boolean {
    return this.index === 0;
  }

  /** Every region known, home first. */
  get known(): readonly Region[] {
    return this.regions;
  }

  /**
   * Home's (new) answer. Stays on the current region if it is still listed; otherwise returns
   * home to move there.
   */
  learn(answer: RegionsAnswer, now: number): Region | null {
    const away = this.atHome ? null : this.current;
    this.regions = this.listFrom(answer);
    if (away === null) return null;
    const found = this.regions.findIndex((r) => r.name === away.name && r.baseUrl === away.baseUrl);
    if (found > 0) {
      this.index = found;
      return null;
    }
    return this.moveTo(0, now);
  }

  /** The connection to the current region synced. */
  synced(): void {
    this.failedAttempts = 0;
    this.waitingSince = null;
    if (this.atHome) {
      this.returning = false;
      this.homeProbeDelay = this.options.firstHomeProbeMs;
      this.nextHomeProbe = Number.POSITIVE_INFINITY;
    }
  }

  /**
   * A socket to the current region closed (not by us, and not a refusal of the document): the
   * region to move to once it has failed too often, else null (the provider retries it).
   */
  connectionLost(now: number): Region | null {
    if (this.waitingSince === null) this.waitingSince = now;
    this.failedAttempts++;
    if (this.failedAttempts < this.options.maxFailedAttempts) return null;
    return this.next(now);
  }

  /** Called every second or so while online: gives up on a region that has been silent too long. */
  tick(now: number): Region | null {
    if (this.waitingSince === null || now - this.waitingSince < this.options.maxWaitMs) return null;
    return this.next(now);
  }

  /** The browser was offline: time spent offline is nobody's fault, so the wait starts again. */
  networkBack(now: number): void {
    this.failedAttempts = 0;
    if (this.waitingSince !== null) this.waitingSince = now;
  }

  homeProbeDue(now: number): boolean {
    return !this.atHome && now >= this.nextHomeProbe;
  }

  homeProbeFailed(now: number): void {
    this.backOffHomeProbe(now);
  }

  /** Home answered a probe: go back (see the class comment). */
  homeAnswered(now: number): Region | null {
    if (this.atHome) return null;
    this.returning = true;
    return this.moveTo(0, now);
  }

  private next(now: number): Region | null {
    if (this.regions.length < 2) {
      // Nowhere else to go: keep retrying this one, and count afresh.
      this.failedAttempts = 0;
      this.waitingSince = now;
      return null;
    }
    if (this.atHome && this.returning) {
      this.returning = false;
      this.backOffHomeProbe(now);
    } else if (this.atHome) {
      this.nextHomeProbe = now + this.homeProbeDelay;
    }
    return this.moveTo((this.index + 1) % this.regions.length, now);
  }

  private moveTo(index: number, now: number): Region {
    this.index = index;
    this.failedAttempts = 0;
    this.waitingSince = now;
    return this.current;
  }

  private backOffHomeProbe(now: number): void {
    this.homeProbeDelay = Math.min(this.homeProbeDelay * 2, this.options.maxHomeProbeMs);
    this.nextHomeProbe = now + this.homeProbeDelay;
  }

  /** Home (at the page's own base URL, whatever public URL it lists for itself) first. */
  private listFrom(answer: RegionsAnswer | null): Region[] {
    const home: Region = { name: answer?.region ?? null, baseUrl: this.homeBaseUrl };
    const others: Region[] = [];
    for (const { name, url } of answer?.regions ?? []) {
      if (url === null || name === home.name || url === home.baseUrl) continue;
      if (others.some((r) => r.name === name || r.baseUrl === url)) continue;
      others.push({ name, baseUrl: url });
    }
    return [home, ...others];
  }
}
