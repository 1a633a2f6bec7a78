/**
 * Configuration from the environment, validated once at start. A bad value stops the process
 * with a message that names the variable, the value and what is expected.
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce
  .number({ error: 'must be a whole number from 0 to 65535' })
  .int('must be a whole number from 0 to 65535')
  .min(0, 'must be a whole number from 0 to 65535')
  .max(65535, 'must be a whole number from 0 to 65535');

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be a whole number of ${what}` })
    .int(`must be a whole number of ${what}`)
    .positive(`must be a whole number of ${what}, at least 1`);

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }).transform((v) => ['true', '1', 'yes'].includes(v));

const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z
    .string()
    .trim()
    .min(1, 'must be a host name or IP address to listen on')
    .regex(/^[A-Za-z0-9.:_[\]-]+$/, 'must be a host name or IP address to listen on')
    .optional(),
  DATA_DIR: z.string().trim().min(1, 'must be a directory path').default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL such as https://docs.example.com' })
    .optional(),
  TRUST_PROXY: bool.default(false),
  MAX_MESSAGE_BYTES: positiveInt('bytes').default(4 * 1024 * 1024),
  MAX_QUEUED_BYTES: positiveInt('bytes').default(4 * 1024 * 1024),
  MAX_MESSAGES_PER_SECOND: positiveInt('messages').default(300),
  MAX_CONNECTIONS_PER_IP: positiveInt('connections').default(200),
  MAX_DOCUMENT_BYTES: positiveInt('bytes').default(64 * 1024 * 1024),
  MAX_PENDING_BYTES: positiveInt('bytes').default(1024 * 1024),
  SHUTDOWN_GRACE_MS: positiveInt('milliseconds').default(10_000),
});

/** Caps on what clients may send; see README, "Limits". */
export interface Limits {
  trustProxy: boolean;
  maxMessageBytes: number;
  maxQueuedBytes: number;
  maxMessagesPerSecond: number;
  maxConnectionsPerIp: number;
  maxDocumentBytes: number;
  maxPendingBytes: number;
}

export interface Config {
  port: number;
  /** Interface to listen on; undefined = all interfaces. */
  host: string | undefined;
  /** Absolute directory for SQLite data. */
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Base URL for share links; undefined = derived from each request's Host header. */
  publicUrl: string | undefined;
  limits: Limits;
  /** How long shutdown waits for every document to be stored before giving up on the rest. */
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const emptyToUndefined = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const parsed = envSchema.safeParse(
    Object.fromEntries(Object.keys(envSchema.shape).map((name) => [name, emptyToUndefined(env[name])])),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return `  ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    host: v.HOST,
    dataDir: path.resolve(v.DATA_DIR),
    logLevel: v.LOG_LEVEL,
    publicUrl: v.PUBLIC_URL?.replace(/\/+$/, ''),
    limits: {
      trustProxy: v.TRUST_PROXY,
      maxMessageBytes: v.MAX_MESSAGE_BYTES,
      maxQueuedBytes: v.MAX_QUEUED_BYTES,
      maxMessagesPerSecond: v.MAX_MESSAGES_PER_SECOND,
      maxConnectionsPerIp: v.MAX_CONNECTIONS_PER_IP,
      maxDocumentBytes: v.MAX_DOCUMENT_BYTES,
      maxPendingBytes: v.MAX_PENDING_BYTES,
    },
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  };
}
