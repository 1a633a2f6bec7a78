/** Process-level plumbing shared by the CLI entry points: config errors, signals, crashes. */
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config';

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
 * SIGINT/SIGTERM: stop accepting, close connections, store everything, exit 0. A second signal
 * forces an exit. Crashes are logged; an unhandled rejection is logged and survived.
 */
export function exitCleanlyOnSignals(close: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'signal received');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.fatal({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; stopping');
    close().finally(() => process.exit(1));
  });
}
