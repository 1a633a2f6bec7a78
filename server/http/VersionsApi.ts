/**
 * The version history API (issue #16, item 7):
 *   GET  /api/docs/<id>/versions                       list, newest first (view link)
 *   POST /api/docs/<id>/versions {"name"}              name the current content (edit link)
 *   GET  /api/docs/<id>/versions/<vid>[?format=…]      one version: JSON, txt|md|html, or yjs
 *   POST /api/docs/<id>/versions/<vid>/restore         make it the current content (edit link)
 * View links may list and read history (they can read the document anyway); only edit links
 * change it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as Y from 'yjs';
import { z } from 'zod';
import { toBase64UrlEncoded } from 'lib0/buffer';
import { isDocId, decodePathSegment } from '../../lib/ids';
import { EXPORT_FORMATS, isExportFormat } from '../../lib/documents/exportFormats';
import { recordAuthor } from '../../lib/documents/authors';
import { summarise, type Deletions, type VersionRecord } from '../../lib/history/versionModel';
import type { Role } from '../../lib/auth/capabilities';
import type { Relay } from '../relay/Relay';
import { SERVER_ORIGIN } from '../relay/origins';
import type { VersionLog } from '../history/VersionLog';
import { readJsonBody } from './readJsonBody';
import { contentDisposition, sendError, sendJson, sendText } from './respond';

export const MAX_VERSION_NAME = 100;

/** Checks the document ID and the caller's link; answers a refusal itself and returns null then. */
export type Authorise = (req: IncomingMessage, res: ServerResponse, rawId: string, url: URL, needed: Role) => Promise<{ docId: string } | null>;

export interface VersionsApiDeps {
  relay: Relay;
  versions: VersionLog;
  authorise: Authorise;
  /** Who deleted what since the last version (the history recorder's), for versions made here. */
  deletionsSinceLastVersion?(docId: string): Deletions[];
}

const nameBody = z.object({ name: z.string() }).strict();

/** The author a server-made restore is shown as. */
const RESTORE_AUTHOR = { name: 'Restore', color: '#57606a' };

export class VersionsApi {
  constructor(private readonly deps: VersionsApiDeps) {}

  /** GET /api/docs/<id>/versions */
  async list(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const auth = await this.deps.authorise(req, res, rawId, url, 'view');
    if (!auth) return;
    const versions = await this.deps.versions.list(auth.docId);
    sendJson(res, 200, { versions: versions.reverse().map(summarise) });
  }

  /** POST /api/docs/<id>/versions {"name": "…"} */
  async create(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const auth = await this.deps.authorise(req, res, rawId, url, 'edit');
    if (!auth) return;
    const parsed = nameBody.safeParse(await readJsonBody(req));
    const name = parsed.success ? parsed.data.name.replace(/\s+/g, ' ').trim() : '';
    if (!parsed.success || name.length === 0 || name.length > MAX_VERSION_NAME) {
      sendError(res, 400, 'invalid_request', `Send {"name": "…"}: a version name of 1 to ${MAX_VERSION_NAME} characters.`);
      return;
    }
    const record = await this.recordNamed(auth.docId, name);
    sendJson(res, 201, { version: summarise(record) });
  }

  /** GET /api/docs/<id>/versions/<vid>?format=txt|md|html|yjs */
  async get(req: IncomingMessage, res: ServerResponse, rawId: string, rawVersionId: string, url: URL): Promise<void> {
    const format = url.searchParams.get('format');
    if (format !== null && format !== 'yjs' && !isExportFormat(format)) {
      sendError(res, 400, 'invalid_format', `Unknown format "${format}". Use one of: ${[...EXPORT_FORMATS, 'yjs'].join(', ')}, or none for JSON.`);
      return;
    }
    const auth = await this.deps.authorise(req, res, rawId, url, 'view');
    if (!auth) return;
    const view = await this.findVersion(res, auth.docId, rawVersionId);
    if (!view) return;
    if (format === null) {
      sendJson(res, 200, {
        version: summarise(view.record),
        previousId: view.previous?.id ?? null,
        // Who deleted what since the previous version (Yjs item ranges, base64url): see the README.
        deletions: (view.record.deletions ?? []).map(({ author, ranges }) => ({ author, ranges: toBase64UrlEncoded(ranges) })),
      });
      return;
    }
    if (format === 'yjs') {
      const bytes = Y.encodeStateAsUpdate(view.content);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.byteLength, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(bytes);
      return;
    }
    const { exportDocument } = await import('../../lib/documents/exportDocument');
    const exported = exportDocument(view.content, format);
    sendText(res, 200, exported.body, {
      'Content-Type': exported.contentType,
      'Content-Disposition': contentDisposition(format === 'html' ? 'attachment' : 'inline', exported.fileName),
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
  }

  /**
   * POST /api/docs/<id>/versions/<vid>/restore: saves the current content as "Before restore",
   * then makes the version the current content as a new change, by a fresh Yjs client (one
   * client ID per restore: a reused ID with another history corrupts documents).
   */
  async restore(req: IncomingMessage, res: ServerResponse, rawId: string, rawVersionId: string, url: URL): Promise<void> {
    req.resume();
    const auth = await this.deps.authorise(req, res, rawId, url, 'edit');
    if (!auth) return;
    const view = await this.findVersion(res, auth.docId, rawVersionId);
    if (!view) return;
    const { restoreInto } = await import('../../lib/history/restoreVersion');
    const { room, release } = await this.deps.relay.openDocument(auth.docId);
    try {
      const deletions = this.deps.deletionsSinceLastVersion?.(auth.docId) ?? [];
      const before = await this.deps.versions.record(auth.docId, room.doc, { kind: 'named', name: 'Before restore', deletions });
      const restorer = new Y.Doc();
      Y.applyUpdate(restorer, Y.encodeStateAsUpdate(room.doc));
      const from = Y.encodeStateVector(restorer);
      restorer.transact(() => {
        recordAuthor(restorer, restorer.clientID, RESTORE_AUTHOR);
        restoreInto(restorer, view.content);
      });
      const change = Y.encodeStateAsUpdate(restorer, from);
      // Nothing ran between copying the room's document and now: `change` applies to it exactly.
      if (!room.change(SERVER_ORIGIN, (doc) => Y.applyUpdate(doc, change))) {
        sendError(res, 503, 'restore_failed', 'The document could not be changed just now; nothing was restored. Try again.');
        return;
      }
      sendJson(res, 200, { restored: summarise(view.record), beforeRestore: summarise(before!) });
    } finally {
      release();
    }
  }

  private async recordNamed(docId: string, name: string): Promise<VersionRecord> {
    const { room, release } = await this.deps.relay.openDocument(docId);
    try {
      // A named version is never skipped.
      const deletions = this.deps.deletionsSinceLastVersion?.(docId) ?? [];
      return (await this.deps.versions.record(docId, room.doc, { kind: 'named', name, deletions }))!;
    } finally {
      release();
    }
  }

  private async findVersion(res: ServerResponse, docId: string, rawVersionId: string) {
    const versionId = decodePathSegment(rawVersionId);
    if (versionId === null || !isDocId(versionId)) {
      sendError(res, 400, 'invalid_version_id', 'A version ID has 22 characters: letters, digits, "-" and "_".');
      return null;
    }
    const view = await this.deps.versions.view(docId, versionId);
    if (!view) {
      sendError(res, 404, 'version_not_found', 'This document has no such version (retention may have removed it).');
      return null;
    }
    if (!view.content) {
      sendError(res, 500, 'version_unreadable', 'This version\'s stored content is incomplete.');
      return null;
    }
    return { ...view, content: view.content };
  }
}
