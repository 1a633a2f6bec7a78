/**
 * Configuration from the environment, validated once at start. A bad value stops the process
 * with a message that names the variable, the value and what is expected.
 */
import { randomUUID } from 'node:crypto';
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

/** A region's name: what it proves in the link handshake and what identifies it (never its URL). */
export const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** CLUSTER_SECRET keys the link handshake's HMAC; shorter secrets are guessable offline from one MAC. */
const MIN_SECRET_LENGTH = 32;

/**
 * PEERS: comma-separated base URLs of the other regions. Credentials, queries and fragments are
 * refused (a URL lands in logs, so it must carry no secret), and so are duplicates after
 * normalisation (two links to one region would both replicate everything).
 */
function parsePeers(value: string, ctx: z.RefinementCtx): URL[] {
  const peers: URL[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of value.split(',').entries()) {
    const entry = raw.trim();
    const where = `entry ${i + 1}${entry === '' ? '' : ` (${entry})`}`;
    if (!URL.canParse(entry)) {
      ctx.addIssue({ code: 'custom', message: `${where} must be an absolute http(s) URL such as https://eu.docs.example.com:443` });
      continue;
    }
    const url = new URL(entry);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `${where} must use http:// or https://` });
    } else if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: `${where} must not carry a user name or password` });
    } else if (url.search !== '' || url.hash !== '') {
      ctx.addIssue({ code: 'custom', message: `${where} must not have a query or fragment` });
    } else {
      url.pathname = url.pathname.replace(/\/+$/, '') || '/';
      if (seen.has(url.href)) ctx.addIssue({ code: 'custom', message: `${where} is listed twice` });
      seen.add(url.href);
      peers.push(url);
    }
  }
  return peers;
}

/** INSTANCE_ID: this instance's name on the bus between a region's instances (logs, /healthz). */
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const redisUrl = z
  .string()
  .refine((v) => URL.canParse(v) && ['redis:', 'rediss:'].includes(new URL(v).protocol), 'must be a redis:// or rediss:// URL such as redis://localhost:6379');

const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z
    .string()
    .trim()
    .min(1, 'must be a host name or IP address to listen on')
    .regex(/^[A-Za-z0-9.:_[\]-]+$/, 'must be a host name or IP address to listen on')
    .optional(),
  DATA_DIR: z.string().trim().min(1, 'must be a directory path').default('./data'),
  DATABASE_URL: z
    .string()
    .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL such as postgres://concord:secret@db.example.com:5432/concord')
    .optional(),
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
  HISTORY_QUIET_MS: positiveInt('milliseconds').default(3 * 60 * 1000),
  HISTORY_EVERY_CHANGES: positiveInt('changes').default(1000),
  REGION: z
    .string()
    .regex(REGION_NAME, 'must be 1 to 32 characters: lowercase letters, digits and "-", starting with a letter or digit')
    .optional(),
  PEERS: z.string().transform(parsePeers).optional(),
  CLUSTER_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters (generate one with: openssl rand -base64 32)`)
    .refine((v) => v.trim() === v, 'must not start or end with whitespace')
    .optional(),
  REGION_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL such as https://eu.docs.example.com' })
    .optional(),
  REDIS_URL: redisUrl.optional(),
  INSTANCE_ID: z.string().regex(INSTANCE_ID, 'must be 1 to 64 characters: letters, digits, ".", "_" and "-", starting with a letter or digit').optional(),
});

/** The variables whose values are never echoed in an error message. */
const SECRET_VARIABLES = new Set(['CLUSTER_SECRET']);

/** DATABASE_URL: what `pg` connects to (issue #13); any other scheme is a mistake, not SQLite. */
function isPostgresUrl(value: string): boolean {
  return URL.canParse(value) && ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
}

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
  /** PostgreSQL connection URL (DATABASE_URL); when set, documents are stored there, not in dataDir. */
  databaseUrl: string | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Base URL for share links; undefined = derived from each request's Host header. */
  publicUrl: string | undefined;
  limits: Limits;
  /** How long shutdown waits for every document to be stored before giving up on the rest. */
  shutdownGraceMs: number;
  /** When automatic versions are recorded (HISTORY_QUIET_MS, HISTORY_EVERY_CHANGES). */
  history: { quietMs: number; everyChanges: number };
  /** This server as one region of several (README, "Configuration"); null = a single region, as before regions. */
  region: RegionConfig | null;
  /** Several instances of this region sharing storage, linked through Redis; null = this instance alone. */
  instances: InstancesConfig | null;
}

export interface InstancesConfig {
  /** REDIS_URL (may hold a password: never logged). */
  redisUrl: string;
  /** INSTANCE_ID, or a random one: unique within the region. */
  instanceId: string;
}

export interface RegionConfig {
  /** This region's name (REGION_NAME), proven to peers in the link handshake. */
  name: string;
  /** Base URLs of the other regions to dial; empty = this region only accepts links. */
  peers: URL[];
  /** CLUSTER_SECRET, shared by every region; never sent over the wire or logged. */
  secret: string;
  /** The URL browsers use to reach this region (client failover); undefined = not offered. */
  publicUrl: string | undefined;
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
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => ({ name: String(issue.path[0] ?? 'environment'), message: issue.message }))),
    ...regionPresenceIssues((name) => emptyToUndefined(env[name]) !== undefined),
    ...(emptyToUndefined(env.INSTANCE_ID) !== undefined && emptyToUndefined(env.REDIS_URL) === undefined
      ? [{ name: 'INSTANCE_ID', message: 'needs REDIS_URL to be set (it names this instance among the region\'s instances)' }]
      : []),
  ];
  if (!parsed.success || issues.length > 0) {
    const lines = issues.map(({ name, message }) => `  ${name}=${shown(name, env[name])}: ${message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const v = parsed.data;
  const publicUrl = v.PUBLIC_URL?.replace(/\/+$/, '');
  return {
    port: v.PORT,
    host: v.HOST,
    dataDir: path.resolve(v.DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    logLevel: v.LOG_LEVEL,
    publicUrl,
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
    history: { quietMs: v.HISTORY_QUIET_MS, everyChanges: v.HISTORY_EVERY_CHANGES },
    region:
      v.REGION !== undefined && v.CLUSTER_SECRET !== undefined
        ? { name: v.REGION, peers: v.PEERS ?? [], secret: v.CLUSTER_SECRET, publicUrl: v.REGION_PUBLIC_URL?.replace(/\/+$/, '') ?? publicUrl }
        : null,
    instances: v.REDIS_URL !== undefined ? { redisUrl: v.REDIS_URL, instanceId: v.INSTANCE_ID ?? randomUUID().slice(0, 8) } : null,
  };
}

/**
 * The region variables only make sense together: a REGION without CLUSTER_SECRET could prove
 * nothing, and PEERS or REGION_PUBLIC_URL without REGION would be silently ignored.
 */
function regionPresenceIssues(isSet: (name: string) => boolean): { name: string; message: string }[] {
  const issues: { name: string; message: string }[] = [];
  if (isSet('REGION') && !isSet('CLUSTER_SECRET')) issues.push({ name: 'CLUSTER_SECRET', message: 'must be set when REGION is (the secret every region shares)' });
  if (isSet('CLUSTER_SECRET') && !isSet('REGION')) issues.push({ name: 'REGION', message: 'must be set when CLUSTER_SECRET is (this region\'s name)' });
  for (const name of ['PEERS', 'REGION_PUBLIC_URL']) {
    if (isSet(name) && !isSet('REGION')) issues.push({ name, message: 'needs REGION and CLUSTER_SECRET to be set' });
  }
  return issues;
}

/** A variable's value as an error message shows it: a secret only by its length, a URL without its password. */
function shown(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name) && value !== undefined) return `(${value.length} characters, not shown)`;
  if ((name === 'DATABASE_URL' || name === 'REDIS_URL') && value !== undefined) {
    if (!URL.canParse(value)) return `(${value.length} characters, not shown: not a URL, and it may hold a password)`;
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return JSON.stringify(url.href);
  }
  return JSON.stringify(value ?? '');
}
