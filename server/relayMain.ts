/**
 * Relay-only entry point (no Next.js): the relay, API, /healthz and /metrics. For tests and
 * benchmarks that start many servers, and for deployments that serve the web app elsewhere.
 *   PORT=0 DATA_DIR=/tmp/x node --import tsx server/relayMain.ts
 */
import { createLogger } from './log';
import { exitCleanlyOnSignals, loadConfigOrExit } from './lifecycle';
import { startServer } from './startServer';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel);
const server = await startServer({
  port: config.port,
  host: config.host,
  dataDir: config.dataDir,
  databaseUrl: config.databaseUrl,
  next: false,
  logger: log,
  publicUrl: config.publicUrl,
  processMetrics: true,
  relay: { ...config.limits, shutdownGraceMs: config.shutdownGraceMs },
  region: config.region ? { region: config.region.name, peers: config.region.peers, secret: config.region.secret, publicUrl: config.region.publicUrl } : undefined,
  instances: config.instances ?? undefined,
  history: config.history,
});
exitCleanlyOnSignals(server.close, log, { graceMs: config.shutdownGraceMs });
