/**
 * Three (or more) regions on one machine for `npm run regions`: each a child process on its own
 * port and data directory, and every link between two regions running through two TCP proxies
 * (one for each side's dial), so cutting a link is real broken TCP in both directions. Browsers
 * reach each region directly, at its own port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTcpProxy, type TcpProxy } from './tcpProxy';
import { RegionChild, type ExitStatus, type RegionOutput } from './RegionChild';
import type { PeerStatus } from '../replication/peerStatus';

export interface LocalClusterOptions {
  names: readonly string[];
  /** One port per region, in `names` order. */
  ports: readonly number[];
  /** Each region's data is in `<dataRoot>/<name>`. */
  dataRoot: string;
  root: string;
  relayOnly: boolean;
  /** CLUSTER_SECRET for every region. */
  secret: string;
  /** Extra environment for every region (LOG_LEVEL stays info: readiness is read from the log). */
  env?: Record<string, string>;
  onOutput(output: RegionOutput): void;
  onUnexpectedExit(region: string, status: ExitStatus): void;
}

export interface LocalRegion {
  name: string;
  port: number;
  /** What browsers use, and REGION_PUBLIC_URL. */
  url: string;
  dataDir: string;
  /** Its PEERS: the proxy it dials each other region through, by region. */
  peers: ReadonlyMap<string, string>;
  child: RegionChild;
}

/** One peer as a region's /healthz lists it (README, "Regions"). */
export type PeerHealth = PeerStatus;

export type RegionHealth = { name: string; reachable: true; peers: PeerHealth[] } | { name: string; reachable: false; problem: string };

const FULL_START_TIMEOUT_MS = 10 * 60_000;
const RELAY_START_TIMEOUT_MS = 60_000;

export class LocalCluster {
  readonly regions = new Map<string, LocalRegion>();
  /** `${from}>${to}`: the proxy `from` dials `to` through. */
  private readonly proxies = new Map<string, TcpProxy>();

  private constructor(private readonly options: LocalClusterOptions) {}

  /** Makes the proxies and the regions; starts nothing yet (see startAll). */
  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    if (options.names.length !== options.ports.length) throw new RangeError('LocalCluster: one port per region');
    const cluster = new LocalCluster(options);
    const portOf = new Map(options.names.map((name, i) => [name, options.ports[i]!]));
    for (const from of options.names) {
      for (const to of options.names) {
        if (from !== to) cluster.proxies.set(`${from}>${to}`, await startTcpProxy(() => portOf.get(to)!));
      }
    }
    for (const [i, name] of options.names.entries()) cluster.addRegion(name, options.ports[i]!);
    return cluster;
  }

  private addRegion(name: string, port: number): void {
    const { options } = this;
    const url = `http://localhost:${port}`;
    const dataDir = path.join(options.dataRoot, name);
    fs.mkdirSync(dataDir, { recursive: true });
    const peers = new Map(options.names.filter((other) => other !== name).map((other) => [other, this.proxies.get(`${name}>${other}`)!.url]));
    const child = new RegionChild({
      name,
      root: options.root,
      relayOnly: options.relayOnly,
      startTimeoutMs: options.relayOnly ? RELAY_START_TIMEOUT_MS : FULL_START_TIMEOUT_MS,
      env: {
        ...options.env,
        REGION: name,
        PEERS: Array.from(peers.values()).join(','),
        CLUSTER_SECRET: options.secret,
        REGION_PUBLIC_URL: url,
        PORT: String(port),
        // Loopback only: the secret is a local one.
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      onOutput: options.onOutput,
      onUnexpectedExit: (status) => options.onUnexpectedExit(name, status),
    });
    this.regions.set(name, { name, port, url, dataDir, peers, child });
  }

  /**
   * Starts the first region alone, then the rest side by side: the first start of the full
   * server builds what is missing (server bundle, web app), and three builds at once would
   * trip over each other in one .next directory.
   */
  async startAll(onStarted: (region: LocalRegion) => void): Promise<void> {
    const [first, ...rest] = Array.from(this.regions.values());
    if (!first) return;
    await first.child.start();
    onStarted(first);
    await Promise.all(rest.map(async (region) => {
      await region.child.start();
      onStarted(region);
    }));
  }

  region(name: string): LocalRegion {
    const region = this.regions.get(name);
    if (!region) throw new RangeError(`no region named ${name}`);
    return region;
  }

  /** Both proxies of the link between `a` and `b`. */
  private link(a: string, b: string): TcpProxy[] {
    return [this.proxies.get(`${a}>${b}`)!, this.proxies.get(`${b}>${a}`)!];
  }

  /** The links, each once, as [a, b] in `names` order. */
  links(): [string, string][] {
    const names = this.options.names;
    return names.flatMap((a, i) => names.slice(i + 1).map((b): [string, string] => [a, b]));
  }

  isCut(a: string, b: string): boolean {
    return this.link(a, b).some((proxy) => proxy.isCut);
  }

  cut(a: string, b: string): void {
    for (const proxy of this.link(a, b)) proxy.cut();
  }

  heal(a: string, b: string): void {
    for (const proxy of this.link(a, b)) proxy.heal();
  }

  /** The links of `region` (with every other region). */
  linksOf(region: string): [string, string][] {
    return this.links().filter(([a, b]) => a === region || b === region);
  }

  /** Each region's own view of its links, from its /healthz (down regions say so). */
  async health(): Promise<RegionHealth[]> {
    return Promise.all(
      Array.from(this.regions.values()).map(async ({ name, url, child }): Promise<RegionHealth> => {
        if (!child.running) return { name, reachable: false, problem: 'not running' };
        try {
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          const body = (await response.json()) as { peers?: PeerHealth[] };
          return { name, reachable: true, peers: body.peers ?? [] };
        } catch (err) {
          return { name, reachable: false, problem: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  /** Stops every region cleanly (SIGTERM, each stores what it holds), then the proxies. */
  async close(): Promise<void> {
    await Promise.all(Array.from(this.regions.values()).map(({ child }) => child.stop('SIGTERM')));
    await Promise.all(Array.from(this.proxies.values()).map((proxy) => proxy.close()));
  }

  /** For process exit: SIGKILL whatever still runs. */
  killNow(): void {
    for (const { child } of this.regions.values()) child.killNow();
  }
}
