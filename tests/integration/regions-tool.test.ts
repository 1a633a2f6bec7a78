/**
 * `npm run regions` (issue #12 item 8), driven as a user would through its standard input, in
 * relay-only mode (the full web app starts the same way, only slower): it prints the three
 * regions' URLs, `cut` breaks a link for real (both regions' /healthz turn it down while the
 * third link stays up), `heal` brings it back, `kill` and `start` take a region down and up, and
 * `quit` stops every region. What `cut`, `heal` and `isolate` do to each direction of each link
 * is checked on plain TCP listeners standing in for the regions.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TempDirs } from '../support/tempDirs';
import { LocalCluster } from '../../server/dev/LocalCluster';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs = new TempDirs();
let tool: ChildProcessWithoutNullStreams | null = null;
afterEach(async () => {
  // Only if a test failed half-way. SIGTERM, not SIGKILL: the tool then stops its regions (they
  // run in their own process groups, so a SIGKILLed tool would leave them running).
  if (tool && tool.exitCode === null) {
    const exited = new Promise((resolve) => tool!.once('exit', resolve));
    tool.kill('SIGTERM');
    await exited;
  }
  tool = null;
  dirs.removeAll();
});

interface PeerHealth {
  region: string | null;
  state: 'up' | 'down';
}

async function peerState(url: string, peer: string): Promise<string | undefined> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { peers: PeerHealth[] };
  return health.peers.find((p) => p.region === peer)?.state;
}

describe('npm run regions', () => {
  it('starts three regions, cuts and heals a link, kills and starts a region, and stops them all on quit', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server', 'dev', 'regions.ts'), '--relay-only', '--port', '0', '--data-dir', dirs.make('concord-regions-tool-')], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_SECRET: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    tool = child;
    const lines: string[] = [];
    readline.createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    /** Waits for a line matching `pattern`, among those printed after the `from`th. */
    const printed = (pattern: RegExp, from = 0) =>
      vi.waitFor(() => expect(lines.slice(from).some((line) => pattern.test(line)), `${lines.join('\n')}\n${stderr}`).toBe(true), { timeout: 30_000 });
    /** Sends a command; returns how many lines were printed before it. */
    const send = (command: string) => {
      child.stdin.write(`${command}\n`);
      return lines.length;
    };

    await printed(/^regions ready$/);
    const urls = new Map<string, string>();
    for (const line of lines) {
      const match = /^\s+(eu|us|ap)\s+(http:\/\/localhost:\d+)\s+status \2\/status/.exec(line);
      if (match) urls.set(match[1]!, match[2]!);
    }
    expect([...urls.keys()]).toEqual(['eu', 'us', 'ap']);
    expect(lines.some((line) => /CLUSTER_SECRET was generated for this run \(local use only/.test(line))).toBe(true);
    const eu = urls.get('eu')!;
    const us = urls.get('us')!;
    await vi.waitFor(async () => {
      expect(await peerState(eu, 'us')).toBe('up');
      expect(await peerState(eu, 'ap')).toBe('up');
      expect(await peerState(us, 'eu')).toBe('up');
    }, { timeout: 20_000 });

    const cutAt = send('cut eu us');
    await printed(/^(regions> )?cut the link eu ↔ us$/, cutAt);
    await vi.waitFor(async () => {
      expect(await peerState(eu, 'us')).toBe('down');
      expect(await peerState(us, 'eu')).toBe('down');
    }, { timeout: 10_000 });
    // Only that link: both still reach ap.
    expect(await peerState(eu, 'ap')).toBe('up');
    expect(await peerState(us, 'ap')).toBe('up');

    // The regions' own warnings reach the terminal, prefixed by region.
    await printed(/^(regions> )?\[(eu|us)\] WARN cluster link down {2}.*peer=(us|eu)/, cutAt);
    const healAt = send('heal eu us');
    await printed(/healed eu ↔ us/, healAt);
    await vi.waitFor(async () => {
      expect(await peerState(eu, 'us')).toBe('up');
      expect(await peerState(us, 'eu')).toBe('up');
    }, { timeout: 15_000 });

    const killAt = send('kill ap');
    await printed(/ap killed \(code null, signal SIGKILL\)/, killAt);
    await vi.waitFor(async () => expect(await peerState(eu, 'ap')).toBe('down'), { timeout: 10_000 });
    const startAt = send('start ap');
    await printed(/\[ap\] listening again at http:\/\/localhost:\d+/, startAt);
    await vi.waitFor(async () => expect(await peerState(eu, 'ap')).toBe('up'), { timeout: 15_000 });

    const bogusAt = send('bogus');
    await printed(/unknown command "bogus"; type help/, bogusAt);
    send('quit');
    expect(await exited).toBe(0);
    expect(lines).toContain('all regions stopped.');
    // Nothing is left listening.
    await expect(fetch(`${eu}/healthz`)).rejects.toThrow();
  });

  it('cuts both directions of one link only, heals it, and isolates a region from every other', async () => {
    const names = ['eu', 'us', 'ap'];
    // Plain TCP listeners stand in for the regions: a connection through a region's PEERS entry
    // either reaches the other region's listener or is refused.
    const listeners = await Promise.all(names.map(() => listen()));
    const cluster = await LocalCluster.create({
      names,
      ports: listeners.map((l) => l.port),
      dataRoot: dirs.make('concord-regions-cluster-'),
      root: ROOT,
      relayOnly: true,
      secret: 'a-cluster-secret-of-at-least-32-characters',
      onOutput: () => undefined,
      onUnexpectedExit: () => undefined,
    });
    try {
      const reaches = (from: string, to: string) => reachesThrough(cluster.region(from).peers.get(to)!, listeners[names.indexOf(to)]!);
      const open = async () => {
        const out: string[] = [];
        for (const from of names) for (const to of names) if (from !== to && (await reaches(from, to))) out.push(`${from}>${to}`);
        return out;
      };
      expect(await open()).toEqual(['eu>us', 'eu>ap', 'us>eu', 'us>ap', 'ap>eu', 'ap>us']);
      cluster.cut('eu', 'us');
      expect(await open()).toEqual(['eu>ap', 'us>ap', 'ap>eu', 'ap>us']);
      cluster.heal('us', 'eu');
      expect(await open()).toHaveLength(6);
      for (const [a, b] of cluster.linksOf('ap')) cluster.cut(a, b);
      expect(await open()).toEqual(['eu>us', 'us>eu']);
    } finally {
      await cluster.close();
      for (const l of listeners) await l.close();
    }
  });
});

interface Listener {
  port: number;
  /** Resolves when the next connection arrives. */
  nextConnection(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP listener on loopback that accepts and holds connections, and says when one arrives. */
async function listen(): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  let waiting: (() => void)[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    for (const resolve of waiting.splice(0)) resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => {
      waiting = [];
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Whether a connection through `proxyUrl` reaches `target`: true once the target accepts it,
 * false once the proxy closes it (a cut proxy accepts, then closes at once).
 */
function reachesThrough(proxyUrl: string, target: Listener): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(proxyUrl).port), '127.0.0.1');
    let settled = false;
    const settle = (value: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    void target.nextConnection().then(() => settle(true));
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
  });
}
