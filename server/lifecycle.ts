/** Process-level plumbing shared by the CLI entry points: config errors, signals, crashes. */
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config';
import type { ShutdownReport } from './relay/Relay';

/** Loads the configuration or exits with a clear message (exit code 2). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`concord: ${err.message}\nSee README.md, "Configuration".\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Past the relay's grace period for storing, this much longer is allowed for the rest of
 * shutdown (sockets, the store) before the process exits anyway: shutdown never hangs.
 */
const SHUTDOWN_BACKSTOP_MS = 10_000;

/**
 * SIGINT/SIGTERM: stop accepting, close connections, store everything within `graceMs`, exit 0;
 * exit 1 when some document could not be stored in time (the relay logged which) or shutdown
 * failed. A second signal forces an exit. Crashes are logged; an unhandled rejection is logged
 * and survived.
 */
export function exitCleanlyOnSignals(close: () => Promise<ShutdownReport>, log: Logger, { graceMs }: { graceMs: number }): void {
  let stopping = false;
  const closeThenExit = (crashed: boolean) => {
    // Not unref'd: if close() stalls on nothing that keeps the process alive, this still decides the exit code.
    setTimeout(() => {
      log.fatal({ waitedMs: graceMs + SHUTDOWN_BACKSTOP_MS }, 'shutdown did not finish in time; exiting without waiting');
      process.exit(1);
    }, graceMs + SHUTDOWN_BACKSTOP_MS);
    close().then(
      ({ unstoredDocIds }) => process.exit(crashed || unstoredDocIds.length > 0 ? 1 : 0),
      (err: unknown) => {
        log.fatal({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'signal received');
    closeThenExit(false);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; stopping');
    stopping = true;
    closeThenExit(true);
  });
}
