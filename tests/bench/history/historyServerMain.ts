/**
 * A Concord relay for the history benchmark, in a process of its own: startServer (relay and
 * API, no web app) on SQLite, with version history on or off as the bench asks — the production
 * entry points have no switch for `history: false`. Config in BENCH_HISTORY_SERVER (JSON, see
 * HistoryServerConfig); SIGTERM closes it cleanly (what a deployment's shutdown does).
 */
import { startServer } from '../../../server/startServer';
import type { HistoryServerConfig } from './HistoryServer';

const config = JSON.parse(process.env.BENCH_HISTORY_SERVER ?? '') as HistoryServerConfig;
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  dataDir: config.dataDir,
  next: false,
  logLevel: 'info',
  // One connection replays the trace at a steady rate above the per-connection cap for typists.
  relay: { maxMessagesPerSecond: 100_000_000 },
  history: config.history,
});
process.once('SIGTERM', () => {
  void server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
