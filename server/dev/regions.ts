/**
 * `npm run regions`: three regions on this machine (issue #12 item 8), each a full Concord server
 * (web app, relay, API) on its own port and data directory, every link between them through a
 * TCP proxy this tool controls. It prints the regions' URLs, forwards their warnings and link
 * events, and reads commands from standard input to cut, heal, isolate, kill and start regions
 * (type `help`). Ctrl-C or `quit` stops every region cleanly.
 *
 *   npm run regions                              eu, us, ap on ports 3001-3003, data in data/regions/
 *   npm run regions -- --relay-only              relay and API only (no web app; starts in a second)
 *   npm run regions -- --port 4001 --data-dir /tmp/regions --names north,south,east
 *   npm run regions -- --port 0                  any free ports (tests)
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REGION_NAME } from '../config';
import { LocalCluster, type RegionHealth } from './LocalCluster';
import type { RegionOutput } from './RegionChild';
import { parseRegionCommand, regionCommandHelp, type RegionCommand } from './regionCommands';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_NAMES = ['eu', 'us', 'ap'];
const DEFAULT_FIRST_PORT = 3001;
/** Info lines worth showing without --verbose: links coming up, catch-up, and why a start is slow. */
const SHOWN_INFO = [/^cluster link/, /^catching up/, /web app/];

const USAGE = `usage: npm run regions -- [--relay-only] [--port <first port, 0 = any free>] [--data-dir <dir>] [--names a,b,c] [--verbose]`;

interface ToolOptions {
  names: string[];
  firstPort: number;
  dataRoot: string;
  relayOnly: boolean;
  verbose: boolean;
}

function readOptions(): ToolOptions {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'relay-only': { type: 'boolean', default: false },
        port: { type: 'string', default: String(DEFAULT_FIRST_PORT) },
        'data-dir': { type: 'string', default: path.join('data', 'regions') },
        names: { type: 'string', default: DEFAULT_NAMES.join(',') },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n\n${regionCommandHelp(DEFAULT_NAMES)}\n`);
    process.exit(0);
  }
  const names = values.names.split(',').map((name) => name.trim());
  const badName = names.find((name) => !REGION_NAME.test(name));
  if (badName !== undefined) fail(`--names: "${badName}" is not a region name (lowercase letters, digits and "-", up to 32)`);
  if (new Set(names).size !== names.length || names.length < 2) fail('--names: at least two regions, each named once');
  const firstPort = Number(values.port);
  if (!Number.isInteger(firstPort) || firstPort < 0 || firstPort + names.length - 1 > 65535) fail(`--port: ${values.port} is not a port`);
  return { names, firstPort, dataRoot: path.resolve(values['data-dir']), relayOnly: values['relay-only'], verbose: values.verbose };
}

function fail(message: string): never {
  process.stderr.write(`regions: ${message}\n`);
  process.exit(2);
}

/** Free ports for the regions: the ones asked for (checked), or any free ones for --port 0. */
async function choosePorts(firstPort: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const wanted = firstPort === 0 ? 0 : firstPort + i;
    const port = await new Promise<number | null>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(null));
      probe.listen(wanted, '127.0.0.1', () => {
        const { port: got } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(got));
      });
    });
    if (port === null) fail(`port ${wanted} is in use; pick other ports with --port <first port>`);
    ports.push(port);
  }
  return ports;
}

/** Writes a line without mangling what the user is typing at the prompt. */
class Console {
  private prompt: readline.Interface | null = null;

  attach(rl: readline.Interface): void {
    this.prompt = process.stdin.isTTY ? rl : null;
  }

  say(text: string): void {
    if (this.prompt) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
    process.stdout.write(`${text}\n`);
    this.prompt?.prompt(true);
  }
}

function formatOutput(output: RegionOutput, verbose: boolean): string | null {
  const prefix = `[${output.region}]`;
  if (output.kind === 'text') return `${prefix} ${output.text}`;
  const { level, time: _time, pid: _pid, hostname: _hostname, msg, ...fields } = output.entry;
  const levelName = typeof level === 'number' ? (level >= 60 ? 'FATAL' : level >= 50 ? 'ERROR' : level >= 40 ? 'WARN' : level >= 30 ? 'info' : 'debug') : 'log';
  const message = typeof msg === 'string' ? msg : '';
  const important = typeof level === 'number' && level >= 40;
  if (!verbose && !important && !SHOWN_INFO.some((pattern) => pattern.test(message))) return null;
  const details = Object.entries(fields)
    .map(([key, value]) => `${key}=${describe(value)}`)
    .join(' ');
  return `${prefix} ${levelName} ${message}${details ? `  ${details}` : ''}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'message' in value) return String((value as { message: unknown }).message);
  return JSON.stringify(value);
}

/** Relative to the working directory when inside it. */
function shownPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? dir : relative;
}

function formatHealth(health: RegionHealth[], cluster: LocalCluster): string {
  const lines: string[] = [];
  const age = (iso: string | null) => (iso === null ? 'never' : `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago`);
  for (const region of health) {
    const { url } = cluster.region(region.name);
    if (!region.reachable) {
      lines.push(`${region.name.padEnd(6)} ${url}  ${region.problem}`);
      continue;
    }
    lines.push(`${region.name.padEnd(6)} ${url}/status`);
    for (const peer of region.peers) {
      const name = peer.region ?? `(${peer.url ?? 'unknown'})`;
      const cut = peer.region && cluster.regions.has(peer.region) && cluster.isCut(region.name, peer.region) ? '  [link cut]' : '';
      const backlog = peer.backlog.documents === 0 ? 'none' : `${peer.backlog.documents} doc(s), ${peer.backlog.bytes} B`;
      lines.push(
        `    → ${name.padEnd(6)} ${peer.state.padEnd(5)} last contact ${age(peer.lastContact).padEnd(9)} lag ${peer.lagSeconds.toFixed(1).padStart(5)} s  backlog ${backlog}${cut}`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = readOptions();
  const ports = await choosePorts(options.firstPort, options.names.length);
  const out = new Console();
  const given = process.env.CLUSTER_SECRET || undefined;
  if (given !== undefined && given.length < 32) fail('CLUSTER_SECRET must be at least 32 characters (or leave it unset: one is generated)');
  const secret = given ?? randomBytes(32).toString('base64url');

  const cluster = await LocalCluster.create({
    names: options.names,
    ports,
    dataRoot: options.dataRoot,
    root: ROOT,
    relayOnly: options.relayOnly,
    secret,
    onOutput: (output) => {
      const line = formatOutput(output, options.verbose);
      if (line !== null) out.say(line);
    },
    onUnexpectedExit: (region, { code, signal }) => out.say(`[${region}] exited unexpectedly (code ${code}, signal ${signal}); "start ${region}" starts it again`),
  });
  process.once('exit', () => cluster.killNow());

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (code: number) =>
    (shuttingDown ??= (async () => {
      out.say('stopping every region (each stores what it holds)…');
      await cluster.close();
      out.say('all regions stopped.');
      process.exit(code);
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        out.say('second signal: killing every region now');
        cluster.killNow();
        process.exit(1);
      }
      void shutdown(0);
    });
  }

  const first = cluster.region(options.names[0]!);
  out.say(
    options.relayOnly
      ? `starting ${options.names.length} regions (relay and API only)…`
      : `starting ${first.name} first (the first run builds the server and the web app: about a minute), then the others…`,
  );
  try {
    await cluster.startAll((region) => out.say(`[${region.name}] listening at ${region.url} (pid ${region.child.pid})`));
  } catch (err) {
    out.say(`regions: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
    return;
  }

  out.say('');
  out.say(`${options.names.length} regions are running${options.relayOnly ? ' (relay and API only)' : ''}:`);
  for (const region of cluster.regions.values()) {
    out.say(`  ${region.name.padEnd(6)} ${region.url.padEnd(24)} status ${region.url}/status   data ${shownPath(region.dataDir)}`);
  }
  out.say(
    given === undefined
      ? 'CLUSTER_SECRET was generated for this run (local use only; set CLUSTER_SECRET to choose one).'
      : 'CLUSTER_SECRET is the one in your environment.',
  );
  out.say('Every link between two regions runs through TCP proxies this tool controls. Type "help" for the commands.');
  out.say('regions ready');

  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY, prompt: 'regions> ' });
  out.attach(rl);
  rl.prompt();
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      const parsed = parseRegionCommand(line, options.names);
      if (parsed === null) return;
      if (!parsed.ok) out.say(parsed.error);
      else await run(parsed.command);
      if (!shuttingDown) rl.prompt();
    });
  });
  // End of input (Ctrl-D, or a test closing stdin) is "quit", after the commands before it.
  rl.on('close', () => void queue.then(() => shutdown(0)));

  async function run(command: RegionCommand): Promise<void> {
    switch (command.kind) {
      case 'cut':
        cluster.cut(command.a, command.b);
        out.say(`cut the link ${command.a} ↔ ${command.b}`);
        return;
      case 'heal': {
        const [a, b] = command.regions;
        const links = a === undefined ? cluster.links() : b === undefined ? cluster.linksOf(a) : [[a, b] as [string, string]];
        for (const [x, y] of links) cluster.heal(x, y);
        out.say(`healed ${links.map(([x, y]) => `${x} ↔ ${y}`).join(', ')} (each side redials within 5 s)`);
        return;
      }
      case 'isolate': {
        const links = cluster.linksOf(command.region);
        for (const [x, y] of links) cluster.cut(x, y);
        out.say(`isolated ${command.region}: cut ${links.map(([x, y]) => `${x} ↔ ${y}`).join(', ')}`);
        return;
      }
      case 'kill':
      case 'stop': {
        const { child } = cluster.region(command.region);
        if (!child.running) {
          out.say(`${command.region} is not running`);
          return;
        }
        const status = await child.stop(command.kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
        out.say(`${command.region} ${command.kind === 'kill' ? 'killed' : 'stopped'} (code ${status?.code ?? null}, signal ${status?.signal ?? null})`);
        return;
      }
      case 'start': {
        const region = cluster.region(command.region);
        if (region.child.running) {
          out.say(`${command.region} is running already`);
          return;
        }
        try {
          await region.child.start();
          out.say(`[${region.name}] listening again at ${region.url} (pid ${region.child.pid})`);
        } catch (err) {
          out.say(`${command.region} did not start: ${err instanceof Error ? err.message : String(err)}`);
        }
        return;
      }
      case 'status':
        out.say(formatHealth(await cluster.health(), cluster));
        return;
      case 'help':
        out.say(regionCommandHelp(options.names));
        return;
      case 'quit':
        await shutdown(0);
        return;
    }
  }
}

await main();
