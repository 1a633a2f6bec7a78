/**
 * A server under test as a child process: started, waited for until it says it is listening,
 * and never left behind (killed when this process exits, however it exits).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../../support/killOnExit';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));


export interface ChildServer {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Every stdout line so far (some servers log one line per event). */
  output: string[];
  /** Kills the process (SIGKILL unless told otherwise) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ChildServerOptions {
  /** Program arguments after `node`. */
  args: string[];
  env: Record<string, string>;
  /** The port, read from a stdout line that says the server is listening; null for other lines. */
  listeningPort(line: string): number | null;
  /** Long enough for `npm start` to build the web app on a fresh checkout. */
  timeoutMs?: number;
}

/**
 * `BENCH_CPU_PROF=<dir>` profiles every server the bench starts (node --cpu-prof, one
 * .cpuprofile per process in <dir>); they are then stopped with SIGTERM, since a SIGKILLed
 * process writes no profile.
 */
const cpuProfileDir = process.env.BENCH_CPU_PROF;

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, '--require', fileURLToPath(new URL('exitOnSigterm.cjs', import.meta.url))] : [];
  const child = spawn(process.execPath, [...profile, ...options.args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const output: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  // Read stdout for the child's whole life: a full pipe would block its logger.
  const lines = readline.createInterface({ input: child.stdout! });
  const timeoutMs = options.timeoutMs ?? 300_000;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not say it was listening within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
      lines.on('line', (line) => {
        if (output.length < 10_000) output.push(line);
        const port = options.listeningPort(line);
        if (port !== null) {
          clearTimeout(timer);
          resolve(port);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited (code ${code}, signal ${signal}) before listening\n${stderr}`));
      });
    });
    const stop = (signal: NodeJS.Signals = cpuProfileDir ? 'SIGTERM' : 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    return { child, pid: child.pid!, port, output, stop };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
}

/** A port nobody listens on right now, for servers that cannot be told to pick one and say which. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The port from a JSON log line `{"msg":"listening","port":N}` (Concord's and our peers'). */
export function jsonListeningPort(line: string): number | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return entry.msg === 'listening' && typeof entry.port === 'number' ? entry.port : null;
  } catch {
    // A line that merely starts with "{" is not a log entry; keep reading.
    return null;
  }
}
