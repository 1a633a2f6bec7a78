/** Structured logging (pino): one JSON object per line on stdout. */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, or on `destination` (tests). */
export function createLogger(level: string, name = 'concord', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    // Share-link capabilities are secrets: never write one to a log, whatever a caller passes.
    redact: {
      paths: ['token', '*.token', 'params.token', 'headers.authorization', 'req.headers.authorization', '*.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
