/**
 * The web app (Next.js pages) as the server sees it: something to hand the requests our own
 * routes do not answer. In production it runs in a process of its own (webAppProcess.ts); in
 * development inside the server's process, for hot reload (nextApp.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type NextMode = 'dev' | 'production';

export interface AttachedNext {
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Only in dev: Next's hot-reload socket (/_next/hmr). */
  handleUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>) | null;
  close(): Promise<void>;
  /** Set when the web app runs in a process of its own. */
  status?: () => WebAppStatus;
}

/** `web` in /healthz: the web app's process, whether it serves pages now, and how often it was restarted. */
export interface WebAppStatus {
  state: 'up' | 'restarting';
  pid: number | null;
  restarts: number;
}
