/**
 * Benchmarks: `npm run bench [-- --scenario <name>…] [--server <name>…] [--runs 3] [--seconds 10] [--frames N]`.
 * Compares Concord with the y-websocket reference server, Hocuspocus and a raw relay, each in its
 * own process on loopback; prints Markdown tables and writes JSON to tests/bench/results/ (or --out).
 * Exits 1 when any run fails (replicas that differ, a server that died), 2 on bad arguments.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SERVERS, PEERS } from './peers';
import { REPO_ROOT } from './peers/childServer';
import type { PeerName } from './peers/PeerServer';
import { scenarioMarkdown } from './report';
import type { BenchOptions, Scenario, ScenarioResult } from './scenario';
import { automergePaper } from './scenarios/automergePaper';
import { divergence } from './scenarios/divergence';
import { hostileEdits } from './scenarios/hostileEdits';
import { history } from './scenarios/history';
import { instances } from './scenarios/instances';
import { loadScenarios } from './scenarios/load';
import { performanceChart } from './chart';
import { regionScenarios } from './scenarios/regions';

/** Every scenario, selectable by name, in the order a full run takes them. */
const SCENARIOS: Record<string, Scenario> = Object.fromEntries([...loadScenarios, automergePaper, history, divergence, hostileEdits, ...regionScenarios, instances].map((s) => [s.name, s]));

const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();

/** Which Concord was measured: the commit, and the server and shared files changed since it. */
function codeUnderTest(): string {
  try {
    const changed = git('status', '--porcelain', '--', 'server', 'lib').split('\n').filter(Boolean).length;
    // The diff's hash tells two dirty states apart even when the same files are changed.
    const diff = createHash('sha1').update(git('diff', 'HEAD', '--', 'server', 'lib')).digest('hex').slice(0, 8);
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` + uncommitted changes to ${changed} file(s) in server/ and lib/ (diff ${diff})` : ''}`;
  } catch (err) {
    return `unknown commit (${(err as Error).message.split('\n')[0]})`;
  }
}

/** What the servers run: server/ and lib/ as committed (their trees) and as changed since. */
function serverCode(): string {
  try {
    return `${git('rev-parse', 'HEAD:server', 'HEAD:lib')} ${createHash('sha1').update(git('diff', 'HEAD', '--', 'server', 'lib')).update(git('status', '--porcelain', '--', 'server', 'lib')).digest('hex')}`;
  } catch {
    return 'unknown';
  }
}

function usage(problem: string): never {
  console.error(`${problem}\nScenarios: ${Object.keys(SCENARIOS).join(', ')}\nServers: ${Object.keys(PEERS).join(', ')}`);
  process.exit(2);
}

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usage(`--${flag} must be a positive number, not "${value}"`);
  return n;
}

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', multiple: true },
    server: { type: 'string', multiple: true },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    frames: { type: 'string' },
    out: { type: 'string' },
  },
});
const chosen = values.scenario ?? Object.keys(SCENARIOS);
for (const name of chosen) if (!SCENARIOS[name]) usage(`Unknown scenario "${name}".`);
const servers = (values.server ?? DEFAULT_SERVERS) as PeerName[];
for (const name of servers) if (!PEERS[name]) usage(`Unknown server "${name}".`);
const options: BenchOptions = {
  servers,
  runs: Math.round(positiveNumber('runs', values.runs, 3)),
  seconds: positiveNumber('seconds', values.seconds, 10),
  frames: values.frames === undefined ? undefined : Math.round(positiveNumber('frames', values.frames, 0)),
  log: (line) => console.log(line),
};

const cpu = os.cpus()[0];
// Virtual machines often report speed 0 to Node; /proc/cpuinfo still says.
const mhz = cpu?.speed || Number(/cpu MHz\s*:\s*([\d.]+)/.exec(fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? 0);
const machine = `${os.cpus().length} × ${cpu?.model ?? 'unknown CPU'}${mhz ? ` @ ${(mhz / 1000).toFixed(1)} GHz` : ''}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const code = codeUnderTest();
const serverCodeAtStart = serverCode();
const started = performance.now();

if (servers.includes('concord')) {
  // `npm start` builds the web app when sources changed; do it now, not inside a measured run.
  console.log('Starting Concord once (it builds the web app first if the sources changed)…');
  await (await PEERS.concord.start()).stop();
}

const results: Record<string, ScenarioResult> = {};
for (const name of chosen) {
  const scenario = SCENARIOS[name]!;
  console.log(`\nRunning ${name}: ${scenario.description}…`);
  try {
    results[name] = await scenario.run(options);
  } catch (err) {
    results[name] = { failures: [`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`] };
  }
}

// Other work in the same checkout may change the server mid-run: say so, since later figures then
// measure different code (a new server process loads whatever is on disk when it starts).
// A commit that touches neither server/ nor lib/ (the README, the tests) changes nothing measured.
const codeAtEnd = codeUnderTest();
const codeNote =
  codeAtEnd === code ? code
  : serverCode() === serverCodeAtStart ? `${code} (${codeAtEnd} at the end, with the same server/ and lib/)`
  : `${code} at the start, ${codeAtEnd} at the end: THE SERVER CODE CHANGED DURING THE RUN`;
const minutes = (performance.now() - started) / 60_000;
const took = minutes < 1 ? `${Math.round(minutes * 60)} s` : `${minutes.toFixed(1)} min`;
console.log(`\n## Results\n`);
for (const name of chosen) console.log(`${scenarioMarkdown(name, results[name]!, servers)}\n`);
if (Object.values(results).some((r) => r.rows?.length)) {
  console.log('Servers:');
  for (const name of servers) console.log(`- ${PEERS[name].label}: ${PEERS[name].describe}`);
}
console.log(`\nConcord: ${codeNote}. Machine: ${machine}. Medians of ${options.runs} runs per cell; ratios are Concord ÷ peer. Took ${took}.`);

const outFile =
  values.out ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
const servedBy = Object.fromEntries(servers.map((s) => [s, PEERS[s].describe]));
const { log: _log, ...recorded } = options;
fs.writeFileSync(outFile, JSON.stringify({ machine, concord: codeNote, date: new Date().toISOString(), minutes, options: recorded, servers: servedBy, results }, null, 2));
console.log(`Results written to ${path.relative(process.cwd(), outFile)}`);
const chart = performanceChart(results, servers, `npm run bench, ${new Date().toISOString().slice(0, 10)}, Concord ${codeNote}; medians of ${options.runs} runs`);
if (chart) {
  const chartFile = outFile.replace(/\.json$/, '') + '.svg';
  fs.writeFileSync(chartFile, chart);
  // The README's copy: only from a run that covered every load scenario with the default servers.
  const complete = loadScenarios.every((s) => chosen.includes(s.name)) && DEFAULT_SERVERS.every((s) => servers.includes(s));
  if (complete) fs.writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'performance.svg'), chart);
  console.log(`Chart written to ${path.relative(process.cwd(), chartFile)}${complete ? ' and tests/bench/performance.svg' : ''}`);
}

const failures = Object.values(results).flatMap((r) => r.failures);
if (failures.length) {
  console.error(`\nBENCH FAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
  process.exit(1);
}
