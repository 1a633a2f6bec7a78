/**
 * Starts one Concord server: HTTP (our routes, then Next) and the relay on one port. Used by the
 * CLI entry points and by tests, which start several on port 0 in one process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createLogger } from './log';
import { Metrics, type RelayStats } from './metrics';
import { Replicator, type ReplicatorOptions } from './replication/Replicator';
import { Relay, DEFAULT_RELAY_OPTIONS, type RelayOptions, type ShutdownReport } from './relay/Relay';
import { HttpRoutes } from './http/HttpRoutes';
import { errorPage } from './http/errorPage';
import { sendText } from './http/respond';
import { InstanceSync, type InstanceSyncOptions } from './instances/InstanceSync';
import { RegionConnectionSlots } from './instances/RegionConnectionSlots';
import { RedisLinkLease } from './replication/RegionLinkLease';
import type { DocumentStore } from './storage/DocumentStore';
import { SqliteStore } from './storage/SqliteStore';
import { HistoryRecorder, type HistoryRecorderOptions } from './history/HistoryRecorder';
import { VersionLog } from './history/VersionLog';
import type { NextMode } from './webApp';

export interface StartOptions {
  port: number;
  host?: string;
  /** SQLite directory; ignored when `store` or `databaseUrl` is given. */
  dataDir?: string;
  /** PostgreSQL URL (DATABASE_URL): store documents there; ignored when `store` is given. */
  databaseUrl?: string;
  /** A ready store (e.g. MemoryStore in tests). The server closes it on close(). */
  store?: DocumentStore;
  /** Serve the web app: 'dev' (hot reload), 'production' (needs a build), or false (relay + API only). */
  next?: NextMode | false;
  logger?: Logger;
  logLevel?: string;
  publicUrl?: string;
  /** Collect Node process metrics (event-loop lag, memory); once per process. */
  processMetrics?: boolean;
  relay?: Partial<RelayOptions>;
  /** Run as one region of several (REGION, PEERS, CLUSTER_SECRET); absent: a single region. */
  region?: Omit<ReplicatorOptions, 'publicUrl'> & { publicUrl?: string | undefined };
  /** One of several instances of this region sharing its storage, linked through Redis (REDIS_URL, INSTANCE_ID). */
  instances?: InstanceSyncOptions & { redisUrl: string };
  /** When automatic versions are recorded (issue #16); false: no version history at all. */
  history?: Partial<HistoryRecorderOptions> | false;
}

export interface RunningServer {
  port: number;
  /** http://host:port */
  url: string;
  /** ws://host:port/ws — the y-websocket provider's serverUrl */
  wsUrl: string;
  relay: Relay;
  /** The region replicator, when running as one region of several. */
  replicator: Replicator | null;
  /** The bus between this region's instances, when running as one of several (REDIS_URL). */
  instances: InstanceSync | null;
  /** Version history: what the recorder records, what the versions API reads (null when off). */
  history: { versions: VersionLog; recorder: HistoryRecorder } | null;
  store: DocumentStore;
  metrics: Metrics;
  /**
   * Stops the server: closes connections, stores what it can within the relay's shutdownGraceMs,
   * closes the store. Resolves with the documents that could not be stored (see Relay.close).
   */
  close(): Promise<ShutdownReport>;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'info');
  const store =
    options.store ??
    // pg is loaded only when it is used (an idle SQLite relay does not hold it).
    (options.databaseUrl ? await (await import('./storage/PostgresStore')).PostgresStore.open(options.databaseUrl, { log }) : new SqliteStore(options.dataDir ?? './data'));
  // The gauges read the relay's stats only at scrape time, after it exists.
  const metrics: Metrics = new Metrics((): RelayStats => relay.stats(), options.processMetrics ?? false);
  const relayOptions = { ...DEFAULT_RELAY_OPTIONS, ...options.relay };
  // With other instances, the bus and the per-address cap share their Redis. ioredis is loaded
  // only then: an idle relay without it holds about 3 MiB less.
  const bus = options.instances ? new (await import('./instances/RedisBus')).RedisBus(options.instances.redisUrl, log) : null;
  const connectionSlots = bus ? new RegionConnectionSlots(bus.publisher, log, { maxPerIp: relayOptions.maxConnectionsPerIp }) : undefined;
  const relay: Relay = new Relay(store, log, metrics, connectionSlots ? { ...relayOptions, connectionSlots } : relayOptions);
  // A region's bus is its own: regions replicate over their links, never through a shared Redis.
  const channelPrefix = options.instances?.channelPrefix ?? (options.region ? `concord:${options.region.region}:` : undefined);
  const instances = bus && options.instances ? new InstanceSync(relay, store, bus, log, metrics.registry, { ...options.instances, channelPrefix }) : null;
  const replicator = options.region
    ? new Replicator(
        relay,
        store,
        log,
        instances && bus
          ? {
              ...options.region,
              lease: new RedisLinkLease(bus.publisher, `${channelPrefix ?? 'concord:'}region-links`, instances.instanceId, log),
              readStored: (docId) => instances.readStored(docId),
              unopenedChanges: (onUpdate) => instances.forwardUnopened(onUpdate),
              peerRefreshMs: options.region.peerRefreshMs ?? 1000,
            }
          : options.region,
      )
    : null;
  if (replicator) metrics.setRegionSource({ peers: () => replicator.status(), traffic: () => replicator.peerTraffic(), linksHere: () => replicator.links.here });
  const history =
    options.history === false
      ? null
      : (() => {
          const versions = new VersionLog(relay, store, log, { region: options.region?.region ?? null });
          return { versions, recorder: new HistoryRecorder(relay, store, versions, log, options.history || {}) };
        })();
  if (history) {
    const { recorder } = history;
    metrics.setHistorySource({ recorded: () => recorder.recorded, failed: () => recorder.failed, pending: () => recorder.pendingDocuments });
  }
  // Production: the web app in its own process, so this one (the relay's) never loads Next.
  // Dev: in this process, for hot reload. Loaded lazily: relay-only servers never pay for either.
  const next =
    options.next === 'production'
      ? await (await import('./webAppProcess')).startWebAppProcess({ hostname: options.host, port: options.port, log })
      : options.next === 'dev'
        ? await (await import('./nextApp')).attachDevNext({ hostname: options.host, port: options.port, log })
        : null;
  const routes = new HttpRoutes({ store, relay, metrics, log, publicUrl: options.publicUrl, startedAt: new Date(), replicator, instances, versions: history?.versions ?? null, webApp: next?.status ?? null, ...(history ? { deletionsSinceLastVersion: (docId: string) => history.recorder.takeDeletions(docId) } : {}) });

  const server = http.createServer();

  server.on('request', (req, res) => {
    routes
      .handle(req, res)
      .then((handled) => {
        if (handled) return;
        if (next) return next.handleRequest(req, res);
        sendText(res, 404, errorPage(404, 'Not found', 'This server runs the relay and API only.'), {
          'Content-Type': 'text/html; charset=utf-8',
        });
      })
      .catch((err: unknown) => {
        log.error({ err, path: req.url?.split('?')[0] }, 'unhandled request error');
        if (!res.headersSent) sendText(res, 500, 'Internal server error\n', { 'Content-Type': 'text/plain; charset=utf-8' });
        else res.destroy();
      });
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
    if (relay.handleUpgrade(req, socket, head)) return;
    if (replicator?.handleUpgrade(req, socket, head)) return;
    if (next?.handleUpgrade) {
      next.handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.warn({ err }, 'next upgrade failed');
        socket.destroy();
      });
      return;
    }
    // Production: nothing else speaks WebSocket here.
    socket.once('finish', () => socket.destroy());
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  // Slow-loris protection for plain HTTP; WebSocket connections are unaffected once upgraded.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  // Before the first connection: every room it loads must be on the bus.
  await instances?.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = !options.host || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const hostInUrl = displayHost.includes(':') ? `[${displayHost}]` : displayHost;
  const url = `http://${hostInUrl}:${port}`;
  log.info({ port, url, storage: store.kind, web: options.next || 'off', region: options.region?.region, instance: instances?.instanceId }, 'listening');
  await replicator?.start();

  let closing: Promise<ShutdownReport> | null = null;
  const close = () =>
    (closing ??= (async () => {
      log.info('shutting down: closing connections and saving documents');
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      history?.recorder.close();
      await replicator?.stop();
      instances?.stop();
      const report = await relay.close();
      connectionSlots?.close();
      await bus?.close();
      server.closeAllConnections();
      await serverClosed;
      await next?.close();
      await store.close();
      if (report.unstoredDocIds.length === 0) log.info('shutdown complete');
      else log.error({ unstored: report.unstoredDocIds.length }, 'shutdown complete, but some documents could not be stored');
      return report;
    })());

  return { port, url, wsUrl: `ws://${hostInUrl}:${port}/ws`, relay, replicator, instances, history, store, metrics, close };
}
