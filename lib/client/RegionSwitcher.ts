/**
 * Points a document's y-websocket provider at the region `RegionFailover` chooses: asks home for
 * the regions (`GET /api/regions`) and keeps the answer, counts failed connections, gives up on a
 * silent region, probes home while away and goes back when it answers. One provider throughout:
 * SaveTracker and ReplicaCheck keep working, and "saved" then means stored in the new region.
 * Browser-only (fetch, timers), framework-free.
 */
import type { WebsocketProvider } from 'y-websocket';
import { isPermanentRefusal } from '../protocol/closeCodes';
import type { KeyValueStorage } from './browserStorage';
import {
  baseUrlOfRelay,
  keepRegions,
  parseRegionsAnswer,
  readKeptRegions,
  RegionFailover,
  relayUrlOf,
  type FailoverOptions,
  type Region,
  type RegionsAnswer,
} from './regionFailover';

/** How often the failover clock is checked. */
const TICK_MS = 1_000;
/** A probe or list request that takes longer than this counts as failed. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Home's list is asked again at most this often while connected there (a peer may have joined). */
const LIST_REFRESH_MS = 60_000;

export interface RegionSwitcherOptions {
  provider: WebsocketProvider;
  /** The relay URL of the page's own server, `ws(s)://<host>/ws`. */
  homeRelayUrl: string;
  storage: KeyValueStorage;
  /** False while offline, refused or outdated: then no failure counts and nothing moves. */
  mayConnect(): boolean;
  /** The region, or what we know of it (its name), changed: for the status line. */
  onChange(): void;
  failover?: Partial<FailoverOptions>;
}

export class RegionSwitcher {
  private readonly failover: RegionFailover;
  private readonly homeBaseUrl: string;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Requests under way, aborted by destroy(). */
  private readonly requests = new Set<AbortController>();
  private probing = false;
  private lastListed = Number.NEGATIVE_INFINITY;
  private destroyed = false;

  constructor(private readonly options: RegionSwitcherOptions) {
    this.homeBaseUrl = baseUrlOfRelay(options.homeRelayUrl);
    // Always start at home; the kept list only says where else to go if home does not answer.
    this.failover = new RegionFailover(this.homeBaseUrl, readKeptRegions(options.storage), Date.now(), options.failover);
    options.provider.on('connection-close', this.onConnectionClose);
    options.provider.on('sync', this.onSync);
    this.timer = setInterval(this.onTick, TICK_MS);
    void this.askHome();
  }

  /** The name of the region the editor is on, null when home never said (a single server). */
  get region(): string | null {
    return this.failover.current.name;
  }

  /** The browser has a network again. */
  networkBack(): void {
    this.failover.networkBack(Date.now());
  }

  destroy(): void {
    this.destroyed = true;
    clearInterval(this.timer);
    for (const request of this.requests) request.abort();
    this.options.provider.off('connection-close', this.onConnectionClose);
    this.options.provider.off('sync', this.onSync);
  }

  /** `event` is null when we closed the socket ourselves (offline, a move): not the region's fault. */
  private readonly onConnectionClose = (event: CloseEvent | null) => {
    if (event === null || isPermanentRefusal(event.code) || !this.options.mayConnect()) return;
    // Moved after y-websocket has finished handling this close (it is mid-way through it now).
    const next = this.failover.connectionLost(Date.now());
    if (next) queueMicrotask(() => this.moveTo(next));
  };

  private readonly onSync = (synced: boolean) => {
    if (!synced) return;
    this.failover.synced();
    if (this.failover.atHome && Date.now() - this.lastListed >= LIST_REFRESH_MS) void this.askHome();
  };

  private readonly onTick = () => {
    if (!this.options.mayConnect()) return;
    const now = Date.now();
    const next = this.failover.tick(now);
    if (next) this.moveTo(next);
    else if (!this.probing && this.failover.homeProbeDue(now)) void this.probeHome();
  };

  /** Home is back when it answers its list; then we go back (see RegionFailover). */
  private async probeHome(): Promise<void> {
    this.probing = true;
    const answered = await this.askHome();
    this.probing = false;
    if (this.destroyed || !this.options.mayConnect()) return;
    if (!answered) {
      this.failover.homeProbeFailed(Date.now());
      return;
    }
    const home = this.failover.homeAnswered(Date.now());
    if (home) this.moveTo(home);
  }

  /** Asks the page's own server for the regions, keeps and learns the answer; true if it answered. */
  private async askHome(): Promise<boolean> {
    this.lastListed = Date.now();
    let answer: RegionsAnswer | null;
    // Not AbortSignal.any/timeout: Safari before 17.4 lacks the former.
    const request = new AbortController();
    const timer = setTimeout(() => request.abort(), REQUEST_TIMEOUT_MS);
    this.requests.add(request);
    try {
      const res = await fetch(`${this.homeBaseUrl}/api/regions`, { signal: request.signal, cache: 'no-store' });
      if (!res.ok) return false;
      answer = parseRegionsAnswer(await res.json());
    } catch (err) {
      if (!this.destroyed) console.info('concord: home region did not answer /api/regions', err);
      return false;
    } finally {
      clearTimeout(timer);
      this.requests.delete(request);
    }
    if (this.destroyed || answer === null) return false;
    keepRegions(this.options.storage, answer);
    const move = this.failover.learn(answer, Date.now());
    if (move) this.moveTo(move);
    else this.options.onChange(); // home may have just told us its name
    return true;
  }

  /** Same provider, new address: y-websocket builds each socket's URL from `serverUrl`. */
  private moveTo(region: Region): void {
    if (this.destroyed) return;
    const { provider } = this.options;
    const relayUrl = relayUrlOf(region.baseUrl);
    console.info(`concord: connecting to region ${region.name ?? '(home)'} at ${relayUrl}`);
    provider.disconnect();
    provider.serverUrl = relayUrl;
    // The back-off belonged to the region we left: the first attempt at this one goes at once.
    provider.wsUnsuccessfulReconnects = 0;
    if (this.options.mayConnect()) provider.connect();
    else provider.connectBc(); // disconnect() closed it too; other tabs must keep our edits
    this.options.onChange();
  }
}
