/**
 * Several regions as separate relay processes on loopback, for the fault tests of issue #12.
 * Each region has its own data directory. Its clients reach it through a TCP proxy, and every
 * link between two regions runs through two proxies, one for each side's dial, so a test can
 * cut a link for real (broken TCP on both sides). A region can be SIGKILLed and started again
 * on the same data directory, or on an emptied one. It comes back on a new port, and every
 * proxy in front of it follows that port.
 */
import fs from 'node:fs';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { startRelayProcess, type ExitStatus, type RelayProcess } from './relayProcess';
import type { TempDirs } from './tempDirs';
import type { PeerStatus } from '../../server/replication/peerStatus';

export const TEST_CLUSTER_SECRET = 'a-cluster-secret-of-at-least-32-characters';

/** pino's numeric levels. */
export const LOG_LEVEL = { warn: 40, error: 50, fatal: 60 } as const;

export interface Region {
  readonly name: string;
  readonly dataDir: string;
  /** The process running now; null while the region is down. */
  process: RelayProcess | null;
  /** Every process this region has run, oldest first, so logs outlive a SIGKILL. */
  readonly lifetimes: RelayProcess[];
  /** The clients' proxy: ws://127.0.0.1:<proxy>/ws. */
  readonly wsUrl: string;
  readonly clientProxy: TcpProxy;
  /** SIGKILLs that really killed the process (it exited on SIGKILL). */
  kills: number;
}

/** One peer as GET /healthz lists it (README, "Regions"). */
export type PeerHealth = PeerStatus;

export interface RegionLogLine {
  region: string;
  /** Which process of the region wrote it (0 = the first start). */
  lifetime: number;
  entry: Record<string, unknown>;
}

export interface RegionClusterOptions {
  names: readonly string[];
  dirs: TempDirs;
  /** Extra environment for every region process. */
  env?: Record<string, string>;
}

export class RegionCluster {
  private readonly regions = new Map<string, Region>();
  /** `${from}>${to}`: the proxy `from` dials `to` through. */
  private readonly linkProxies = new Map<string, TcpProxy>();
  /** Port each region listens on now; 0 while it is down (a connection to 0 is refused). */
  private readonly ports = new Map<string, number>();

  private constructor(
    readonly names: readonly string[],
    private readonly env: Record<string, string>,
  ) {}

  static async start(options: RegionClusterOptions): Promise<RegionCluster> {
    const cluster = new RegionCluster(options.names, options.env ?? {});
    try {
      await cluster.build(options.dirs);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  region(name: string): Region {
    const region = this.regions.get(name);
    if (!region) throw new RangeError(`no region ${name}`);
    return region;
  }

  /** Every other region's name. */
  peersOf(name: string): string[] {
    return this.names.filter((other) => other !== name);
  }

  /** Both proxies of the link between `a` and `b` (a's dial to b, b's dial to a). */
  link(a: string, b: string): [TcpProxy, TcpProxy] {
    return [this.proxy(a, b), this.proxy(b, a)];
  }

  /** Every link proxy (to sum connectionsAccepted). */
  allLinkProxies(): TcpProxy[] {
    return Array.from(this.linkProxies.values());
  }

  cutLink(a: string, b: string): void {
    for (const proxy of this.link(a, b)) proxy.cut();
  }

  healLink(a: string, b: string): void {
    for (const proxy of this.link(a, b)) proxy.heal();
  }

  /** Cuts every link of `name`; its clients still reach it. */
  isolate(name: string): void {
    for (const peer of this.peersOf(name)) this.cutLink(name, peer);
  }

  healAllLinks(): void {
    for (const proxy of this.linkProxies.values()) proxy.heal();
  }

  /** SIGKILLs the region's process and waits until it is gone. */
  async kill(name: string): Promise<ExitStatus> {
    const region = this.region(name);
    const running = region.process;
    if (!running) throw new Error(`region ${name} is already down`);
    this.ports.set(name, 0);
    region.process = null;
    const status = await running.stop('SIGKILL');
    if (status.signal === 'SIGKILL') region.kills++;
    return status;
  }

  /** Starts a region that is down, on its data directory as it is (or emptied first). */
  async restart(name: string, options: { emptyDataDir?: boolean } = {}): Promise<RelayProcess> {
    const region = this.region(name);
    if (region.process) throw new Error(`region ${name} is still running`);
    if (options.emptyDataDir) {
      fs.rmSync(region.dataDir, { recursive: true, force: true });
      fs.mkdirSync(region.dataDir);
    }
    return this.launch(region);
  }

  /** Stops every running region with `signal` (SIGTERM stores everything first) and waits. */
  async stopAll(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    await Promise.all(
      Array.from(this.regions.values()).map(async (region) => {
        const running = region.process;
        if (!running) return;
        this.ports.set(region.name, 0);
        region.process = null;
        const status = await running.stop(signal);
        if (signal === 'SIGTERM' && status.code !== 0) throw new Error(`region ${region.name} exited with ${JSON.stringify(status)} on SIGTERM`);
      }),
    );
  }

  /** GET /healthz of a running region, straight to its port (not through its proxy). */
  async peers(name: string): Promise<PeerHealth[]> {
    const running = this.region(name).process;
    if (!running) throw new Error(`region ${name} is down`);
    const response = await fetch(`${running.url}/healthz`);
    const body = (await response.json()) as { region?: string; peers?: PeerHealth[] };
    if (body.region !== name) throw new Error(`/healthz of ${name} names region ${String(body.region)}`);
    return body.peers ?? [];
  }

  /** Whether `from` reports its link to `to` up in /healthz. */
  async linkUp(from: string, to: string): Promise<boolean> {
    return (await this.peers(from)).some((peer) => peer.region === to && peer.state === 'up');
  }

  /** Every log line at `minLevel` or above that any region has written, in every lifetime. */
  logsAtLeast(minLevel: number): RegionLogLine[] {
    const out: RegionLogLine[] = [];
    for (const region of this.regions.values()) {
      region.lifetimes.forEach((process, lifetime) => {
        for (const entry of process.logs) {
          if (typeof entry.level === 'number' && entry.level >= minLevel) out.push({ region: region.name, lifetime, entry });
        }
      });
    }
    return out;
  }

  /** Error- and fatal-level lines: an unexpected error inside a server (README, "The relay"). */
  errorLogs(): RegionLogLine[] {
    return this.logsAtLeast(LOG_LEVEL.error);
  }

  /** SIGKILLs whatever still runs and closes every proxy. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(Array.from(this.regions.values()).map((region) => region.process?.stop('SIGKILL')));
    for (const region of this.regions.values()) region.process = null;
    await Promise.all([...this.linkProxies.values(), ...Array.from(this.regions.values(), (r) => r.clientProxy)].map((proxy) => proxy.close()));
  }

  private proxy(from: string, to: string): TcpProxy {
    const proxy = this.linkProxies.get(`${from}>${to}`);
    if (!proxy) throw new RangeError(`no link ${from}–${to}`);
    return proxy;
  }

  private async build(dirs: TempDirs): Promise<void> {
    for (const name of this.names) {
      this.ports.set(name, 0);
      const clientProxy = await startTcpProxy(() => this.ports.get(name) ?? 0);
      this.regions.set(name, {
        name,
        dataDir: dirs.make(`concord-${name}-`),
        process: null,
        lifetimes: [],
        wsUrl: `ws://127.0.0.1:${clientProxy.port}/ws`,
        clientProxy,
        kills: 0,
      });
    }
    for (const from of this.names) {
      for (const to of this.peersOf(from)) this.linkProxies.set(`${from}>${to}`, await startTcpProxy(() => this.ports.get(to) ?? 0));
    }
    // In parallel: the bundle's build writes each file atomically, so concurrent starts are safe.
    await Promise.all(this.names.map((name) => this.launch(this.region(name))));
  }

  private async launch(region: Region): Promise<RelayProcess> {
    const peers = this.peersOf(region.name).map((to) => this.proxy(region.name, to).url);
    const running = await startRelayProcess(region.dataDir, {
      ...this.env,
      REGION: region.name,
      PEERS: peers.join(','),
      CLUSTER_SECRET: TEST_CLUSTER_SECRET,
    });
    region.process = running;
    region.lifetimes.push(running);
    this.ports.set(region.name, running.port);
    return running;
  }
}
