/**
 * Link proxies (server/dev/tcpProxy.ts) run in a child process (linkProxiesMain.ts) and driven
 * from here: add one per dialing direction, tell it where its target region listens, cut and heal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT } from '../peers/childServer';

const MAIN = path.join(REPO_ROOT, 'tests', 'bench', 'regions', 'linkProxiesMain.ts');
const ANSWER_TIMEOUT_MS = 30_000;

export class LinkProxies {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, { resolve: (answer: Record<string, unknown>) => void; reject: (err: Error) => void }>();
  private seq = 0;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor() {
    // tsx, as the benchmark itself runs: the proxy module is TypeScript beside the server's.
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as { seq: number; error?: string };
      const waiter = this.waiting.get(answer.seq);
      this.waiting.delete(answer.seq);
      if (answer.error) waiter?.reject(new Error(`link proxies: ${answer.error}`));
      else waiter?.resolve(answer);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        for (const waiter of this.waiting.values()) waiter.reject(new Error(`the link proxy process exited (code ${code}, signal ${signal})\n${this.stderr}`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  /** A proxy for `id` ("a>b": a dials b through it) to region `target`; returns its http:// URL. */
  async add(id: string, target: string, delayMs: number): Promise<string> {
    const { port } = await this.ask({ cmd: 'add', id, target, delayMs });
    return `http://127.0.0.1:${String(port)}`;
  }

  async setTarget(target: string, port: number): Promise<void> {
    await this.ask({ cmd: 'target', target, port });
  }

  async cut(id: string): Promise<void> {
    await this.ask({ cmd: 'cut', id });
  }

  async heal(id: string): Promise<void> {
    await this.ask({ cmd: 'heal', id });
  }

  /** Ends the child (closing its stdin makes it exit) and waits for it. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private ask(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new Error(`link proxies did not answer ${JSON.stringify(command)} within ${ANSWER_TIMEOUT_MS} ms\n${this.stderr}`));
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(seq, {
        resolve: (answer) => (clearTimeout(timer), resolve(answer)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.child.stdin!.write(`${JSON.stringify({ seq, ...command })}\n`);
    });
  }
}
