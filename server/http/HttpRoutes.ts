/**
 * Our own HTTP endpoints, answered before Next sees a request: the documents API, health,
 * metrics, the operator's status page, and the 400 page for a malformed document link.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WebAppStatus } from '../webApp';
import { decodePathSegment, describeBadDocId, isDocId } from '../../lib/ids';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Metrics } from '../metrics';
import type { Relay } from '../relay/Relay';
import { DocumentsApi } from './DocumentsApi';
import { VersionsApi } from './VersionsApi';
import type { VersionLog } from '../history/VersionLog';
import type { Deletions } from '../../lib/history/versionModel';
import { errorPage } from './errorPage';
import { STATUS_PAGE_HEADERS, STATUS_SCRIPT_PATH, statusPageHtml } from './statusPage';
import { statusScriptSource } from './statusScript';
import { BodyError } from './readJsonBody';
import { BASE_HEADERS, sendError, sendJson, sendText } from './respond';

import type { Replicator } from '../replication/Replicator';
import type { InstanceSync } from '../instances/InstanceSync';

export interface HttpRoutesDeps {
  store: DocumentStore;
  relay: Relay;
  metrics: Metrics;
  log: Logger;
  /** Fixed base URL for links, or undefined to derive it from the request. */
  publicUrl: string | undefined;
  startedAt: Date;
  /** Region replication, when this server is one region of several. */
  replicator?: Replicator | null;
  /** The bus between this region's instances, when running as one of several. */
  instances?: InstanceSync | null;
  /** Version history (issue #16); null: the versions API answers 404. */
  versions?: VersionLog | null;
  /** The history recorder's attribution of deletions, for versions the API makes. */
  deletionsSinceLastVersion?: (docId: string) => Deletions[];
  /** The web app's own process (production), for /healthz; null when it runs here or not at all. */
  webApp?: (() => WebAppStatus) | null;
}

const DOCUMENT_PATH = /^\/api\/docs\/([^/]*)(\/[a-z]+)?$/;
const VERSIONS_PATH = /^\/api\/docs\/([^/]*)\/versions(?:\/([^/]*)(\/restore)?)?$/;
const EDITOR_PATH = /^\/d\/([^/]*)\/?$/;

export class HttpRoutes {
  private readonly documents: DocumentsApi;
  private readonly versions: VersionsApi | null;

  constructor(private readonly deps: HttpRoutesDeps) {
    this.documents = new DocumentsApi({ store: deps.store, relay: deps.relay, baseUrl: (req) => this.baseUrl(req) });
    this.versions = deps.versions
      ? new VersionsApi({
          relay: deps.relay,
          versions: deps.versions,
          authorise: (req, res, rawId, url, needed) => this.documents.authorise(req, res, rawId, url, needed),
          ...(deps.deletionsSinceLastVersion ? { deletionsSinceLastVersion: deps.deletionsSinceLastVersion } : {}),
        })
      : null;
  }

  /** Answers the request if it is ours; returns false to pass it on (to Next). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://concord.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') return this.respond(res, () => allow(req, res, ['GET', 'HEAD']) && this.health(res));
    if (path === '/api/regions') return this.respond(res, () => allow(req, res, ['GET']) && this.regions(res));
    if (path === '/metrics') return this.respond(res, () => allow(req, res, ['GET']) && this.metrics(res));
    if (path === '/status') return this.respond(res, () => allow(req, res, ['GET', 'HEAD']) && sendText(res, 200, statusPageHtml(), STATUS_PAGE_HEADERS));
    if (path === STATUS_SCRIPT_PATH) {
      return this.respond(res, () => allow(req, res, ['GET', 'HEAD']) && sendText(res, 200, statusScriptSource(), { 'Content-Type': 'text/javascript; charset=utf-8' }));
    }
    if (path === '/api/docs') return this.respond(res, () => allow(req, res, ['POST']) && this.documents.create(req, res));
    const versions = VERSIONS_PATH.exec(path);
    if (versions) {
      const [, id = '', versionId, restore] = versions;
      return this.respond(res, () => {
        if (!this.versions) return sendError(res, 404, 'not_found', 'This server keeps no version history.');
        if (versionId === undefined) {
          if (method === 'POST') return this.versions.create(req, res, id, url);
          return allow(req, res, ['GET', 'POST']) && this.versions.list(req, res, id, url);
        }
        if (restore) return allow(req, res, ['POST']) && this.versions.restore(req, res, id, versionId, url);
        return allow(req, res, ['GET']) && this.versions.get(req, res, id, versionId, url);
      });
    }
    const doc = DOCUMENT_PATH.exec(path);
    if (doc) {
      const [, id = '', action = ''] = doc;
      return this.respond(res, () => {
        if (action === '') {
          if (method === 'DELETE') return this.documents.remove(req, res, id, url);
          return allow(req, res, ['GET', 'DELETE']) && this.documents.info(req, res, id, url);
        }
        if (action === '/export') return allow(req, res, ['GET']) && this.documents.export(req, res, id, url);
        if (action === '/rotate') return allow(req, res, ['POST']) && this.documents.rotate(req, res, id, url);
        return sendError(res, 404, 'not_found', `No API endpoint at ${method} ${path}.`);
      });
    }
    if (path === '/api' || path.startsWith('/api/')) {
      sendError(res, 404, 'not_found', `No API endpoint at ${method} ${path}.`);
      return true;
    }
    const editor = EDITOR_PATH.exec(path);
    if (editor) {
      const id = decodePathSegment(editor[1]!);
      if (id === null || !isDocId(id)) {
        const detail = id === null ? 'The link is not valid.' : describeBadDocId(id);
        sendText(res, 400, errorPage(400, 'This link does not point to a document', `${detail} Check that you copied the whole link.`), {
          'Content-Type': 'text/html; charset=utf-8',
        });
        return true;
      }
    }
    return false;
  }

  private async respond(res: ServerResponse, handler: () => unknown): Promise<true> {
    try {
      await handler();
    } catch (err) {
      if (err instanceof BodyError) {
        if (!res.headersSent) sendError(res, err.status, err.code, err.message);
        return true;
      }
      this.deps.log.error({ err }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'The server could not complete this request.');
      else res.destroy();
    }
    return true;
  }

  private async health(res: ServerResponse): Promise<void> {
    const stats = this.deps.relay.stats();
    let storage: 'ok' | 'error' = 'ok';
    try {
      await this.deps.store.ping();
    } catch (err) {
      this.deps.log.error({ err }, 'health check: storage unavailable');
      storage = 'error';
    }
    const replicator = this.deps.replicator;
    // Without the bus an instance still serves its own clients (and converges through storage):
    // degraded, not unavailable, so a load balancer keeps sending it traffic.
    const bus = this.deps.instances?.status();
    sendJson(res, storage === 'ok' ? 200 : 503, {
      status: storage === 'ok' && (!bus || bus.state === 'up') ? 'ok' : 'degraded',
      storage: { kind: this.deps.store.kind, status: storage },
      connections: stats.connections,
      documentsLoaded: stats.documentsLoaded,
      uptimeSeconds: Math.round((Date.now() - this.deps.startedAt.getTime()) / 1000),
      ...(replicator ? { region: replicator.regions()[0]!.name, peers: await replicator.status(), links: replicator.links } : {}),
      ...(bus ? { bus } : {}),
      ...(this.deps.webApp ? { web: this.deps.webApp() } : {}),
    });
  }

  /** GET /api/regions: this region and its peers' public URLs (the editor keeps them for failover). */
  private regions(res: ServerResponse): void {
    const regions = this.deps.replicator?.regions() ?? [];
    sendJson(res, 200, { region: regions[0]?.name ?? null, regions: regions.map(({ name, url }) => ({ name, url })) });
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.deps.metrics.render();
    sendText(res, 200, body, { 'Content-Type': contentType });
  }

  private baseUrl(req: IncomingMessage): string {
    if (this.deps.publicUrl) return this.deps.publicUrl;
    const host = req.headers.host ?? '';
    // The Host header is client-controlled: only use it when it looks like a host[:port].
    return /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? `http://${host}` : 'http://localhost';
  }
}

/** Answers 405 unless the method is one of `methods`; returns whether to go on. */
function allow(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (methods.includes(req.method ?? 'GET')) return true;
  res.writeHead(405, { ...BASE_HEADERS, Allow: methods.join(', '), 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: { code: 'method_not_allowed', message: `Use ${methods.join(' or ')} here.` } }));
  return false;
}
