/**
 * The documents API: create, inspect, rotate links, delete, export. Every call on an existing
 * document needs a capability (`Authorization: Bearer <token>` or `?token=`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as Y from 'yjs';
import { z } from 'zod';
import { describeBadDocId, isDocId, decodePathSegment } from '../../lib/ids';
import {
  currentCapabilities,
  mintDocument,
  rotatedCapability,
  tokenVerifier,
  type AccessState,
  type DocumentCapabilities,
  type Role,
} from '../../lib/auth/capabilities';
import { EXPORT_FORMATS, isExportFormat } from '../../lib/documents/exportFormats';
import type { DocumentStore } from '../storage/DocumentStore';
import type { Relay } from '../relay/Relay';
import { authorize } from '../auth/authorize';
import { requestToken } from './clientIp';
import { readJsonBody } from './readJsonBody';
import { contentDisposition, sendError, sendJson, sendText } from './respond';

export interface DocumentsApiDeps {
  store: DocumentStore;
  relay: Relay;
  /** Base URL for links (no trailing slash). */
  baseUrl(req: IncomingMessage): string;
}

const rotateBody = z.object({ edit: z.boolean().optional(), view: z.boolean().optional() }).strict();

interface Authorised {
  docId: string;
  token: string;
  role: Role;
  access: AccessState;
}

export class DocumentsApi {
  constructor(private readonly deps: DocumentsApiDeps) {}

  /** POST /api/docs */
  async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // Creation takes no options; drain whatever was sent.
    const caps = mintDocument();
    const info = await this.deps.store.createDocument(caps.docId);
    sendJson(res, 201, { id: caps.docId, ...this.links(req, caps), createdAt: info.createdAt.toISOString() }, {
      Location: `${this.deps.baseUrl(req)}/d/${caps.docId}`,
    });
  }

  /** GET /api/docs/<id>: your role; the owner also gets the current links. */
  async info(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const auth = await this.authorise(req, res, rawId, url, 'view');
    if (!auth) return;
    const body: Record<string, unknown> = { id: auth.docId, role: auth.role };
    if (auth.role === 'owner') {
      Object.assign(body, this.links(req, currentCapabilities(auth.token, auth.access)), {
        rotations: { edit: auth.access.editEpoch, view: auth.access.viewEpoch },
      });
    }
    sendJson(res, 200, body);
  }

  /** POST /api/docs/<id>/rotate {"edit": true, "view": true}: old links stop working at once. */
  async rotate(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const auth = await this.authorise(req, res, rawId, url, 'owner');
    if (!auth) return;
    const parsed = rotateBody.safeParse(await readJsonBody(req));
    if (!parsed.success || (!parsed.data.edit && !parsed.data.view)) {
      sendError(res, 400, 'invalid_request', 'Send {"edit": true} and/or {"view": true} to choose which links to replace.');
      return;
    }
    const { edit, view } = parsed.data;
    // The next epoch comes from the state stored when the write happens, not the one read at
    // authorisation: two rotations at once both count (issue #12).
    const access = await this.deps.store.updateAccess(auth.docId, (current) => rotated(current, auth.token, { edit, view }), this.deps.relay.accessChangeOptions());
    // Deleted meanwhile (the rotation kept the tombstone): answer as authorise would now.
    if (access.deleted) {
      sendError(res, 410, 'document_deleted', 'The owner deleted this document.');
      return;
    }
    this.deps.relay.accessChanged(auth.docId, access);
    sendJson(res, 200, { id: auth.docId, ...this.links(req, currentCapabilities(auth.token, access)) });
  }

  /** DELETE /api/docs/<id>: gone for good; every connection closes with 4410. */
  async remove(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const auth = await this.authorise(req, res, rawId, url, 'owner');
    if (!auth) return;
    await this.deps.store.updateAccess(auth.docId, (current) => ({ ...current, deleted: true }), this.deps.relay.accessChangeOptions());
    this.deps.relay.documentDeleted(auth.docId);
    sendJson(res, 200, { id: auth.docId, deleted: true });
  }

  /** GET /api/docs/<id>/export?format=txt|md|html */
  async export(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL): Promise<void> {
    const format = url.searchParams.get('format') ?? 'txt';
    if (!isExportFormat(format)) {
      sendError(res, 400, 'invalid_format', `Unknown export format "${format}". Use one of: ${EXPORT_FORMATS.join(', ')}.`);
      return;
    }
    const auth = await this.authorise(req, res, rawId, url, 'view');
    if (!auth) return;
    // Loaded on first use: an idle relay does not hold the Markdown and HTML serialisers.
    const { exportDocument } = await import('../../lib/documents/exportDocument');
    const exported = exportDocument(await this.readDocument(auth.docId), format);
    // HTML is always a download: rendering user content on our origin would be an XSS vector.
    sendText(res, 200, exported.body, {
      'Content-Type': exported.contentType,
      'Content-Disposition': contentDisposition(format === 'html' ? 'attachment' : 'inline', exported.fileName),
      'Content-Security-Policy': "default-src 'none'; sandbox",
    });
  }

  /** Checks the ID, then authorize(); answers the refusal itself and returns null on one. */
  async authorise(req: IncomingMessage, res: ServerResponse, rawId: string, url: URL, needed: Role): Promise<Authorised | null> {
    const docId = decodePathSegment(rawId);
    if (docId === null || !isDocId(docId)) {
      sendError(res, 400, 'invalid_document_id', docId === null ? 'The document ID is not valid.' : describeBadDocId(docId));
      return null;
    }
    const token = requestToken(req, url);
    const auth = await authorize(this.deps.store, docId, token, needed);
    // authorize refuses a missing token, so an accepted one is a string.
    if (auth.ok) return { docId, token: token!, role: auth.role, access: auth.access };
    switch (auth.refusal) {
      case 'missing-token':
        sendError(res, 401, 'capability_required', 'Send the link\'s token as "Authorization: Bearer <token>" or "?token=".');
        return null;
      case 'forbidden':
        sendError(res, 403, 'forbidden', 'This token is not valid for this document, or its link was replaced.');
        return null;
      case 'deleted':
        sendError(res, 410, 'document_deleted', 'The owner deleted this document.');
        return null;
      case 'insufficient-role':
        sendError(res, 403, 'forbidden', `This needs the ${needed} link; yours is a ${auth.role} link.`);
        return null;
    }
  }

  private links(req: IncomingMessage, caps: DocumentCapabilities) {
    const page = `${this.deps.baseUrl(req)}/d/${caps.docId}#token=`;
    return { ownerUrl: page + caps.owner, editUrl: page + caps.edit, viewUrl: page + caps.view };
  }

  /** The freshest copy: the loaded room if any, else storage (empty for a document never written). */
  private async readDocument(id: string): Promise<Y.Doc> {
    const room = this.deps.relay.loadedRoom(id);
    if (room) return room.doc;
    const doc = new Y.Doc();
    for (const update of (await this.deps.store.load(id)).updates) Y.applyUpdate(doc, update);
    return doc;
  }
}

/**
 * `current` with the chosen links rotated once more (everything else, deletion included, kept):
 * the owner recomputes the new tokens from its secret and the epochs.
 */
function rotated(current: AccessState, owner: string, which: { edit?: boolean; view?: boolean }): AccessState {
  const next = { ...current };
  if (which.edit) {
    next.editEpoch += 1;
    next.editVerifier = tokenVerifier(rotatedCapability(owner, 'edit', next.editEpoch));
  }
  if (which.view) {
    next.viewEpoch += 1;
    next.viewVerifier = tokenVerifier(rotatedCapability(owner, 'view', next.viewEpoch));
  }
  return next;
}
