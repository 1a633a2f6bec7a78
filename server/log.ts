/** Structured logging (pino): one JSON object per line on stdout. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'concord'): Logger {
  return pino({
    name,
    level,
    // Share-link capabilities may travel in query strings; never write them to logs.
    redact: { paths: ['token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
  });
}
