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
});

export interface Config {
  port: number;
  /** Interface to listen on; undefined = all interfaces. */
  host: string | undefined;
  /** Absolute directory for SQLite data. */
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Base URL for share links; undefined = derived from each request's Host header. */
  publicUrl: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const emptyToUndefined = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const parsed = envSchema.safeParse({
    PORT: emptyToUndefined(env.PORT),
    HOST: emptyToUndefined(env.HOST),
    DATA_DIR: emptyToUndefined(env.DATA_DIR),
    LOG_LEVEL: emptyToUndefined(env.LOG_LEVEL),
    PUBLIC_URL: emptyToUndefined(env.PUBLIC_URL),
  });
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
  };
}
