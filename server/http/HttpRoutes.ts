/**
 * Our own HTTP endpoints, answered before Next sees a request: the JSON API, export, health,
 * metrics, and the 400 page for a malformed document link.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { decodePathSegment, describeBadDocId, isDocId, newDocId } from '../../lib/ids';
import { EXPORT_FORMATS, exportDocument, isExportFormat } from '../../lib/documents/exportDocument';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Metrics } from '../metrics';
import type { Relay } from '../relay/Relay';
import { errorPage } from './errorPage';
import { BASE_HEADERS, contentDisposition, sendError, sendJson, sendText } from './respond';

export interface HttpRoutesDeps {
  store: DocumentStore;
  relay: Relay;
  metrics: Metrics;
  log: Logger;
  /** Fixed base URL for links, or undefined to derive it from the request. */
  publicUrl: string | undefined;
  startedAt: Date;
}

const EXPORT_PATH = /^\/api\/docs\/([^/]*)\/export$/;
const EDITOR_PATH = /^\/d\/([^/]*)\/?$/;

export class HttpRoutes {
  constructor(private readonly deps: HttpRoutesDeps) {}

  /** Answers the request if it is ours; returns false to pass it on (to Next). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://concord.invalid');
    const path = url.pathname;
    if (path === '/healthz') return this.respond(res, () => this.health(req, res));
    if (path === '/metrics') return this.respond(res, () => this.metrics(req, res));
    if (path === '/api/docs') return this.respond(res, () => this.createDocument(req, res));
    const exportMatch = EXPORT_PATH.exec(path);
    if (exportMatch) return this.respond(res, () => this.export(req, res, exportMatch[1]!, url.searchParams));
    if (path === '/api' || path.startsWith('/api/')) {
      sendError(res, 404, 'not_found', `No API endpoint at ${req.method} ${path}.`);
      return true;
    }
    const editorMatch = EDITOR_PATH.exec(path);
    if (editorMatch) {
      const id = decodePathSegment(editorMatch[1]!);
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

  private async respond(res: ServerResponse, handler: () => Promise<void> | void): Promise<true> {
    try {
      await handler();
    } catch (err) {
      this.deps.log.error({ err }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'The server could not complete this request.');
      else res.destroy();
    }
    return true;
  }

  private async health(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowMethods(req, res, ['GET', 'HEAD'])) return;
    const stats = this.deps.relay.stats();
    let storage: 'ok' | 'error' = 'ok';
    try {
      await this.deps.store.ping();
    } catch (err) {
      this.deps.log.error({ err }, 'health check: storage unavailable');
      storage = 'error';
    }
    sendJson(res, storage === 'ok' ? 200 : 503, {
      status: storage === 'ok' ? 'ok' : 'degraded',
      storage: { kind: this.deps.store.kind, status: storage },
      connections: stats.connections,
      documentsLoaded: stats.documentsLoaded,
      uptimeSeconds: Math.round((Date.now() - this.deps.startedAt.getTime()) / 1000),
    });
  }

  private async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowMethods(req, res, ['GET'])) return;
    const { contentType, body } = await this.deps.metrics.render();
    sendText(res, 200, body, { 'Content-Type': contentType });
  }

  private async createDocument(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowMethods(req, res, ['POST'])) return;
    req.resume(); // v0 takes no body; drain whatever was sent.
    const info = await this.deps.store.createDocument(newDocId());
    const base = this.baseUrl(req);
    const editUrl = `${base}/d/${info.id}`;
    sendJson(
      res,
      201,
      { id: info.id, editUrl, viewUrl: editUrl, createdAt: info.createdAt.toISOString() },
      { Location: editUrl },
    );
  }

  private async export(req: IncomingMessage, res: ServerResponse, rawId: string, query: URLSearchParams): Promise<void> {
    if (!allowMethods(req, res, ['GET'])) return;
    const id = decodePathSegment(rawId);
    if (id === null || !isDocId(id)) {
      sendError(res, 400, 'invalid_document_id', id === null ? 'The document ID is not valid.' : describeBadDocId(id));
      return;
    }
    const format = query.get('format') ?? 'txt';
    if (!isExportFormat(format)) {
      sendError(res, 400, 'invalid_format', `Unknown export format "${format}". Use one of: ${EXPORT_FORMATS.join(', ')}.`);
      return;
    }
    const doc = await this.readDocument(id);
    if (!doc) {
      sendError(res, 404, 'document_not_found', 'No document with this ID is stored on this server.');
      return;
    }
    const exported = exportDocument(doc, format);
    // HTML is always a download: rendering user content on our origin would be an XSS vector.
    const disposition = format === 'html' ? 'attachment' : 'inline';
    sendText(res, 200, exported.body, {
      'Content-Type': exported.contentType,
      'Content-Disposition': contentDisposition(disposition, exported.fileName),
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
  }

  /** The freshest copy: the loaded room if any, else storage. Null for an unknown document. */
  private async readDocument(id: string): Promise<Y.Doc | null> {
    const room = this.deps.relay.loadedRoom(id);
    if (room) return room.doc;
    const stored = await this.deps.store.load(id);
    if (stored.updates.length === 0 && !(await this.deps.store.getDocument(id))) return null;
    const doc = new Y.Doc();
    for (const update of stored.updates) Y.applyUpdate(doc, update);
    return doc;
  }

  private baseUrl(req: IncomingMessage): string {
    if (this.deps.publicUrl) return this.deps.publicUrl;
    const host = req.headers.host ?? '';
    // The Host header is client-controlled: only use it when it looks like a host[:port].
    return /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? `http://${host}` : 'http://localhost';
  }
}

function allowMethods(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (methods.includes(req.method ?? 'GET')) return true;
  res.writeHead(405, { ...BASE_HEADERS, Allow: methods.join(', '), 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: { code: 'method_not_allowed', message: `Use ${methods.join(' or ')} here.` } }));
  return false;
}

