/**
 * The web app in a process of its own (production): the Concord server forks
 * server/webProcess.mjs, which serves the Next.js pages on a loopback port, and passes it every
 * HTTP request that is not ours (API, health, metrics, WebSockets stay here). So the relay's
 * process holds no Next.js — a smaller heap, shorter GC pauses — while `npm start` is still one
 * command and one port. If the web app's process dies it is started again; pages answer 503
 * meanwhile, the relay and API never notice.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AttachedNext, WebAppStatus } from './webApp';
import { errorPage } from './http/errorPage';
import { PROJECT_ROOT } from './paths';

const SCRIPT = path.join(PROJECT_ROOT, 'server', 'webProcess.mjs');
const READY_TIMEOUT_MS = 120_000;
const RESTART_DELAY_MS = 1_000;
const STOP_TIMEOUT_MS = 5_000;
/** Headers of one hop only (RFC 9110 §7.6.1): never passed through. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

export interface WebAppOptions {
  /** The public host and port, which Next.js uses for the URLs it builds. */
  hostname?: string;
  port: number;
  log: Logger;
}

export async function startWebAppProcess(options: WebAppOptions): Promise<AttachedNext> {
  const web = new WebAppProcess(options);
  await web.start();
  return web;
}

class WebAppProcess implements AttachedNext {
  readonly handleUpgrade = null;
  private child: ChildProcess | null = null;
  private port: number | null = null;
  private closing = false;
  /** Restarted only once it has run: a web app that cannot start at all fails `npm start`. */
  private everReady = false;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private restarts = 0;

  constructor(private readonly options: WebAppOptions) {}

  readonly status = (): WebAppStatus => ({
    state: this.port === null ? 'restarting' : 'up',
    pid: this.child?.pid ?? null,
    restarts: this.restarts,
  });

  /** Resolves once the web app answers on its port; rejects if its process fails first. */
  start(): Promise<void> {
    const child = fork(SCRIPT, [PROJECT_ROOT, this.options.hostname ?? 'localhost', String(this.options.port)], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the web app did not start within ${READY_TIMEOUT_MS / 1000} s`));
      }, READY_TIMEOUT_MS);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message.type !== 'ready' || typeof message.port !== 'number') return;
        clearTimeout(timer);
        this.port = message.port;
        this.everReady = true;
        this.options.log.debug({ pid: child.pid, port: message.port }, 'web app ready in its own process');
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) {
          this.child = null;
          this.port = null;
        }
        if (this.closing) return;
        reject(new Error(`the web app's process exited before it was ready (code ${code}, signal ${signal})`));
        if (!this.everReady) return;
        this.options.log.error({ code, signal }, 'the web app\'s process exited; starting it again');
        this.restarts++;
        setTimeout(() => {
          if (!this.closing) this.start().catch((err: unknown) => this.options.log.error({ err }, 'the web app could not be restarted'));
        }, RESTART_DELAY_MS).unref();
      });
    });
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = this.port;
    if (port === null) {
      res
        .writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', 'Retry-After': '2' })
        .end(errorPage(503, 'Restarting', 'The web app is restarting; reload in a moment. Open documents keep saving meanwhile.'));
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const upstream = http.request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: forwardable(req.headers), agent: this.agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardable(answer.headers));
          answer.pipe(res);
          answer.once('end', () => resolve());
          answer.once('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      upstream.once('error', (err) => {
        this.options.log.warn({ err, path: req.url?.split('?')[0] }, 'the web app did not answer');
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/html; charset=utf-8' }).end(errorPage(502, 'No answer', 'The web app did not answer; reload in a moment.'));
        else res.destroy();
        resolve();
      });
      res.once('close', () => upstream.destroy());
      req.pipe(upstream);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.agent.destroy();
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}
