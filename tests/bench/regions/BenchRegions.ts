/**
 * Regions for the benchmarks (issue #12): each a relay process (`node server/start.mjs
 * relayMain`, as `npm run relay` runs it) with its own fresh data directory, linked to every
 * other through TCP proxies that add a one-way delay (the distance between datacenters) and can
 * be cut (a partition). Clients connect to a region's own port, with no proxy: they are local.
 *
 * Each ordered pair of regions has its own proxy (a's dial to b, b's dial to a); of the two links
 * dialed, the regions keep one, so both proxies of a pair carry the same delay. The proxies run in
 * a process of their own (LinkProxies.ts), so the load generator's busy event loop does not delay
 * the links.
 * With one region and `linked: false` it is a plain single-region relay (no REGION): the baseline.
 *
 * A region may be several instances (`instances`, issue #13): relay processes sharing the
 * region's data directory (SQLite, WAL) and a private redis-server, named `<region>1…`. Its link
 * proxy leads to the instance that took the region links at start (the others answer a dial
 * with 503), and its /healthz is read from the holder.
 */
import { forwardedFor } from '../peers/concord';
import { startRedisServer, type RedisServer } from '../../support/redisServer';
import { startRelayProcess, type RelayProcess } from '../../support/relayProcess';
import { TempDirs } from '../../support/tempDirs';
import { sumSeries } from '../../support/prometheusText';
import { LinkProxies } from './LinkProxies';

const CLUSTER_SECRET = 'bench-cluster-secret-of-at-least-32-characters';
/** pino's numeric levels. */
const WARN = 40;
const ERROR = 50;

/** One peer as GET /healthz lists it (README, "Regions"). */
export interface PeerHealth {
  region: string | null;
  state: 'up' | 'down';
  lagSeconds: number;
  backlog: { documents: number; bytes: number };
}

export interface RegionHealth {
  connections: number;
  documentsLoaded: number;
  peers: PeerHealth[];
}

export interface BenchRegion {
  readonly name: string;
  /** The first instance (the only one, unless `instances` asked for more). */
  readonly process: RelayProcess;
  /** Every instance of the region, the first included. */
  readonly instances: readonly RelayProcess[];
  /** The relay's own node process (start.mjs runs the compiled server in-process). */
  readonly pid: number;
  /** ws://127.0.0.1:<port>/ws */
  readonly wsUrl: string;
  readonly dataDir: string;
}

export interface BenchRegionsOptions {
  names: readonly string[];
  /** Link the regions (REGION, PEERS, CLUSTER_SECRET); false = one plain relay, no replication. */
  linked: boolean;
  /** One-way delay on every link (ms). */
  delayMs: number;
  /** Instances per region, by name (default 1): more share a data directory and a Redis. */
  instances?: Readonly<Record<string, number>>;
}

/** Every client of a run gets its own X-Forwarded-For (TRUST_PROXY), as behind a proxy: no per-IP cap on loopback. */
export const clientHeaders = forwardedFor;

export class BenchRegions {
  readonly regions: BenchRegion[] = [];
  /** Ids `${from}>${to}`: the proxy `from` dials `to` through. */
  private proxies: LinkProxies | null = null;
  private readonly dirs = new TempDirs();
  private readonly redisServers: RedisServer[] = [];

  private constructor(private readonly options: BenchRegionsOptions) {}

  static async start(options: BenchRegionsOptions): Promise<BenchRegions> {
    if (!options.linked && options.names.length !== 1) throw new RangeError('unlinked regions: exactly one');
    const cluster = new BenchRegions(options);
    try {
      await cluster.launch();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  region(name: string): BenchRegion {
    const region = this.regions.find((r) => r.name === name);
    if (!region) throw new RangeError(`no region ${name}`);
    return region;
  }

  async health(name: string): Promise<RegionHealth> {
    const region = this.region(name);
    if (region.instances.length === 1) return this.instanceHealth(name, region.process);
    // Several instances: the one holding the region links sees them (the others' peers show down).
    const views = await Promise.all(region.instances.map((instance) => this.instanceHealth(name, instance)));
    return views.find((view) => view.linksHere) ?? views[0]!;
  }

  /**
   * Replication `update` messages and bytes this region sent to its peers so far, from /metrics
   * (live sends and catch-up's together).
   */
  async updatesSent(name: string): Promise<{ messages: number; bytes: number }> {
    const text = await (await fetch(`${this.region(name).process.url}/metrics`)).text();
    const update = { name: 'type', value: 'update' };
    return { messages: sumSeries(text, 'concord_region_messages_sent_total', update), bytes: sumSeries(text, 'concord_region_bytes_sent_total', update) };
  }

  private async instanceHealth(name: string, instance: RelayProcess): Promise<RegionHealth & { linksHere: boolean }> {
    const region = { process: instance };
    let response: Response;
    try {
      response = await fetch(`${region.process.url}/healthz`);
    } catch (err) {
      // Say why: a region that died, with its exit and last log lines, or the socket error.
      const exit = region.process.child.exitCode ?? region.process.child.signalCode;
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      const last = region.process.logs.slice(-3).map((entry) => String(entry.msg)).join(' | ');
      throw new Error(`GET /healthz of region ${name} failed (${cause})${exit !== null ? `; the process exited (${exit})` : ''}; its last log lines: ${last}`);
    }
    const body = (await response.json()) as RegionHealth & { region?: string; links?: { here: boolean } };
    if (this.options.linked && body.region !== name) throw new Error(`/healthz of ${name} names region ${String(body.region)}`);
    return { connections: body.connections, documentsLoaded: body.documentsLoaded, peers: body.peers ?? [], linksHere: body.links?.here ?? true };
  }

  /** What `from` reports of its peer `to`. */
  async peer(from: string, to: string): Promise<PeerHealth> {
    const peer = (await this.health(from)).peers.find((p) => p.region === to);
    if (!peer) throw new Error(`/healthz of ${from} does not list ${to}`);
    return peer;
  }

  /** Resolves once every region reports every link up. */
  async untilLinked(timeoutMs = 30_000): Promise<void> {
    await this.until('every link up', timeoutMs, async () => {
      for (const region of this.regions) {
        const peers = (await this.health(region.name)).peers;
        if (peers.length !== this.regions.length - 1 || peers.some((p) => p.state !== 'up' || p.region === null)) return false;
      }
      return true;
    });
  }

  /** Polls `test` every `intervalMs` until it holds; throws after `timeoutMs`. */
  async until(what: string, timeoutMs: number, test: () => Promise<boolean>, intervalMs = 100): Promise<void> {
    const started = performance.now();
    for (;;) {
      if (await test()) return;
      if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** Cuts both proxies of the a–b link: broken TCP on both sides. */
  async cutLink(a: string, b: string): Promise<void> {
    await Promise.all([`${a}>${b}`, `${b}>${a}`].map((id) => this.linkProxies().cut(id)));
  }

  async healLink(a: string, b: string): Promise<void> {
    await Promise.all([`${a}>${b}`, `${b}>${a}`].map((id) => this.linkProxies().heal(id)));
  }

  /** Where each region's log is now, for logLines(since) to read only what comes after. */
  logMark(): Map<string, number> {
    return new Map(this.regions.flatMap((r) => r.instances.map((instance, i) => [`${r.name}#${i}`, instance.logs.length] as const)));
  }

  /** Warn- and error-level log lines of every region (after `since`, if given), as `region: message`. */
  logLines(since?: Map<string, number>): { warnings: string[]; errors: string[] } {
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const region of this.regions) {
      for (const [i, instance] of region.instances.entries()) {
        for (const entry of instance.logs.slice(since?.get(`${region.name}#${i}`) ?? 0)) {
          const level = typeof entry.level === 'number' ? entry.level : 0;
          const line = `${region.name}: ${String(entry.msg)}${entry.err ? ` (${JSON.stringify(entry.err).slice(0, 200)})` : ''}`;
          if (level >= ERROR) errors.push(line);
          else if (level >= WARN) warnings.push(line);
        }
      }
    }
    return { warnings, errors };
  }

  /** SIGTERM: each region stores everything and exits 0 (what the storage check then reads). */
  async stop(): Promise<void> {
    const instances = this.regions.flatMap((r) => r.instances.map((instance) => ({ name: r.name, instance })));
    const statuses = await Promise.all(instances.map(({ instance }) => instance.stop('SIGTERM')));
    statuses.forEach((status, i) => {
      if (status.code !== 0) throw new Error(`region ${instances[i]!.name} exited with ${JSON.stringify(status)} on SIGTERM`);
    });
  }

  /** Kills whatever still runs, closes the proxies and removes the data directories. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.regions.flatMap((r) => r.instances.map((instance) => instance.stop(process.env.BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL'))));
    await Promise.all(this.redisServers.splice(0).map((redis) => redis.stop()));
    await this.proxies?.close();
    this.proxies = null;
    this.dirs.removeAll();
  }

  /** The instance of a region of several that holds its links (it takes them as it starts). */
  private async linkHolder(name: string, instances: RelayProcess[]): Promise<RelayProcess> {
    let holder: RelayProcess | undefined;
    await this.until(`an instance of ${name} to hold the region links`, 30_000, async () => {
      for (const instance of instances) {
        const body = (await (await fetch(`${instance.url}/healthz`)).json()) as { links?: { here: boolean } };
        if (body.links?.here) holder = instance;
      }
      return holder !== undefined;
    });
    return holder!;
  }

  private linkProxies(): LinkProxies {
    if (!this.proxies) throw new RangeError('these regions are not linked');
    return this.proxies;
  }

  private async launch(): Promise<void> {
    const { names, linked, delayMs } = this.options;
    const urls = new Map<string, string>();
    if (linked) {
      const proxies = (this.proxies = new LinkProxies());
      for (const from of names) {
        for (const to of names) if (to !== from) urls.set(`${from}>${to}`, await proxies.add(`${from}>${to}`, to, delayMs));
      }
    }
    // In parallel: the bundle's build writes each file atomically, so concurrent starts are safe.
    const started = await Promise.allSettled(
      names.map(async (name): Promise<BenchRegion> => {
        const dataDir = this.dirs.make(`concord-bench-${name}-`);
        const peers = names.filter((to) => to !== name).map((to) => urls.get(`${name}>${to}`)!);
        const env: Record<string, string> = { TRUST_PROXY: 'true', LOG_LEVEL: 'info' };
        if (linked) Object.assign(env, { REGION: name, PEERS: peers.join(','), CLUSTER_SECRET });
        const count = this.options.instances?.[name] ?? 1;
        if (count > 1) {
          const redis = await startRedisServer();
          this.redisServers.push(redis);
          env.REDIS_URL = redis.url;
        }
        const instances = await Promise.all(
          Array.from({ length: count }, (_, i) => startRelayProcess(dataDir, count > 1 ? { ...env, INSTANCE_ID: `${name}${i + 1}` } : env)),
        );
        const relay = instances[0]!;
        await this.proxies?.setTarget(name, count > 1 ? (await this.linkHolder(name, instances)).port : relay.port);
        return { name, process: relay, instances, pid: relay.child.pid!, wsUrl: relay.wsUrl, dataDir };
      }),
    );
    // Those that started are closed by close() even when another failed.
    for (const result of started) if (result.status === 'fulfilled') this.regions.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
