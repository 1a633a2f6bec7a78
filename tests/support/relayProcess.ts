/**
 * The relay-only server as a child process, for tests that kill it (SIGKILL) and restart it on
 * the same data directory, and for benchmarks that measure its memory. It runs as `npm run relay`
 * does: the compiled server/relayMain.ts, built first by the child when the bundle is stale.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serverArgs } from '../../server/serverCommand';
import { killOnExit } from './killOnExit';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Includes building the server bundle (well under a second) when a source changed. */
const START_TIMEOUT_MS = 30_000;
/** The port is read from the "listening" line, which is logged at info. */
const LEVELS_THAT_LOG_LISTENING = new Set(['info', 'debug', 'trace']);

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RelayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  /** Every JSON log line seen so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (null if killed by a signal) and the signal. */
  exited: Promise<ExitStatus>;
  /** Sends `signal` unless the process has already exited, and resolves once it has. */
  stop(signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT'): Promise<ExitStatus>;
}


export async function startRelayProcess(dataDir: string, env: Record<string, string> = {}): Promise<RelayProcess> {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LEVELS_THAT_LOG_LISTENING.has(logLevel)) {
    throw new RangeError(`LOG_LEVEL=${logLevel} hides the "listening" line the port is read from; use info, debug or trace`);
  }
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, ...serverArgs(REPO_ROOT, 'relayMain')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...env, LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  // Keep reading stdout for the whole life of the child: a full pipe would block its logger.
  const lines = readline.createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay did not log "listening" within ${START_TIMEOUT_MS} ms\n${stderr}`));
    }, START_TIMEOUT_MS);
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // Not a log line (e.g. a tool's notice): keep reading.
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`relay exited (code ${code}, signal ${signal}) before listening\n${stderr}`));
    });
  });
  const stop = (signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { child, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, logs, exited, stop };
}
