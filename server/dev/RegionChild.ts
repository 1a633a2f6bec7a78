/**
 * One region of `npm run regions` as a child process (`node server/start.mjs [relayMain]`), which
 * can be killed and started again on the same port and data directory. Its JSON log lines and
 * any other output are handed to `onOutput`; it is ready once it logs "listening".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { serverArgs } from '../serverCommand';

export interface RegionChildOptions {
  name: string;
  /** The repository root (where server/start.mjs is). */
  root: string;
  relayOnly: boolean;
  env: Record<string, string>;
  /** A first start of the full server may build the web app (about a minute). */
  startTimeoutMs: number;
  onOutput(output: RegionOutput): void;
  /** The process ended without being asked to (a crash, or a kill from outside the tool). */
  onUnexpectedExit(status: ExitStatus): void;
}

export type RegionOutput =
  | { region: string; kind: 'log'; entry: Record<string, unknown> }
  | { region: string; kind: 'text'; stream: 'stdout' | 'stderr'; text: string };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class RegionChild {
  private child: ChildProcess | null = null;
  private exited: Promise<ExitStatus> | null = null;
  private stopping = false;

  constructor(private readonly options: RegionChildOptions) {}

  get name(): string {
    return this.options.name;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process; resolves once it listens, rejects if it exits or times out first. */
  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error(`${this.name} is running already`));
    const { root, relayOnly, env, name } = this.options;
    const args = serverArgs(root, relayOnly ? 'relayMain' : undefined);
    // Its own process group: a Ctrl-C in the terminal reaches only the tool, which then stops
    // each region once (a second signal would make a region exit without storing).
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.stopping = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        resolve({ code, signal });
        if (!this.stopping) this.options.onUnexpectedExit({ code, signal });
      }),
    );
    const exited = this.exited;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start listening within ${Math.round(this.options.startTimeoutMs / 1000)} s`));
        void this.stop('SIGKILL');
      }, this.options.startTimeoutMs);
      let ready = false;
      // Read both pipes for the child's whole life: a full pipe would block its logger.
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = parseLogLine(line);
        if (!entry) {
          this.options.onOutput({ region: name, kind: 'text', stream: 'stdout', text: line });
          return;
        }
        this.options.onOutput({ region: name, kind: 'log', entry });
        if (!ready && entry.msg === 'listening') {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      });
      readline.createInterface({ input: child.stderr! }).on('line', (text) => this.options.onOutput({ region: name, kind: 'text', stream: 'stderr', text }));
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it was listening; see its output above`));
      });
    });
  }

  /**
   * Sends `signal` and resolves once the process has exited; after SIGTERM, SIGKILLs it if it
   * has not exited within `graceMs`. Resolves at once if it is not running.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL', graceMs = 30_000): Promise<ExitStatus | null> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return null;
    this.stopping = true;
    child.kill(signal);
    if (signal === 'SIGKILL') return exited;
    const backstop = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(backstop);
    }
  }

  /** For process exit: no waiting, nothing left behind. */
  killNow(): void {
    this.child?.kill('SIGKILL');
  }
}

function parseLogLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    // Not a log line after all (a tool's output that starts with "{"): shown as text.
    return null;
  }
}
