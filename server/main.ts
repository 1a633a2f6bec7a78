/**
 * The Concord server: web app, relay and API on one port.
 *   npm start      production (builds the web app first if needed)
 *   npm run dev    development with hot reload
 */
import { createLogger } from './log';
import { exitCleanlyOnSignals, loadConfigOrExit } from './lifecycle';
import { ensureWebAppBuilt } from './ensureBuild';
import { startServer } from './startServer';

const dev = process.argv.includes('--dev');
const config = loadConfigOrExit();
const log = createLogger(config.logLevel);

if (!dev) ensureWebAppBuilt(log);
// Next reads NODE_ENV to pick its mode; set it before Next loads.
(process.env as Record<string, string>).NODE_ENV = dev ? 'development' : 'production';

try {
  const server = await startServer({
    port: config.port,
    host: config.host,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    next: dev ? 'dev' : 'production',
    logger: log,
    publicUrl: config.publicUrl,
    processMetrics: true,
    relay: { ...config.limits, shutdownGraceMs: config.shutdownGraceMs },
    region: config.region ? { region: config.region.name, peers: config.region.peers, secret: config.region.secret, publicUrl: config.region.publicUrl } : undefined,
    instances: config.instances ?? undefined,
    history: config.history,
  });
  exitCleanlyOnSignals(server.close, log, { graceMs: config.shutdownGraceMs });
  log.info(`Concord is ready at ${server.url}`);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') log.fatal(`Port ${config.port} is already in use. Stop the other process or set PORT.`);
  else if (code === 'EACCES') log.fatal(`Not allowed to listen on port ${config.port}. Use a port above 1023 or set PORT.`);
  else log.fatal({ err }, 'could not start');
  process.exit(1);
}
