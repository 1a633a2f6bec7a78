/** Next.js as a request handler inside our own HTTP server (pages only; API and relay are ours). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import next from 'next';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from './paths';

export type NextMode = 'dev' | 'production';

export interface AttachedNext {
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Only in dev: Next's hot-reload socket (/_next/hmr). */
  handleUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>) | null;
  close(): Promise<void>;
  /** Set when the web app runs in a process of its own (server/webAppProcess.ts). */
  status?: () => WebAppStatus;
}

/** `web` in /healthz: the web app's process, whether it serves pages now, and how often it was restarted. */
export interface WebAppStatus {
  state: 'up' | 'restarting';
  pid: number | null;
  restarts: number;
}

export async function attachNext(mode: NextMode, opts: { hostname?: string; port: number; log: Logger }): Promise<AttachedNext> {
  const app = next({ dev: mode === 'dev', dir: PROJECT_ROOT, hostname: opts.hostname ?? 'localhost', port: opts.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = mode === 'dev' ? app.getUpgradeHandler() : null;
  opts.log.debug({ mode }, 'web app ready');
  return {
    handleRequest: (req, res) => handle(req, res),
    handleUpgrade: upgrade,
    close: () => app.close(),
  };
}
