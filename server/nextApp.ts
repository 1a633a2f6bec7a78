/**
 * Next.js in development, as a request handler inside our own HTTP server (pages and hot reload;
 * API and relay are ours). Production runs it in its own process: webAppProcess.ts.
 */
import next from 'next';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from './paths';
import type { AttachedNext } from './webApp';

export async function attachDevNext(opts: { hostname?: string; port: number; log: Logger }): Promise<AttachedNext> {
  const app = next({ dev: true, dir: PROJECT_ROOT, hostname: opts.hostname ?? 'localhost', port: opts.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  opts.log.debug('web app ready (development, in this process)');
  return {
    handleRequest: (req, res) => handle(req, res),
    handleUpgrade: app.getUpgradeHandler(),
    close: () => app.close(),
  };
}
