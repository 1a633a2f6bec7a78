/**
 * The browser's side of the version history API (README, "Version history"): list, name and read
 * versions of one document with this page's link. Errors become a HistoryApiError carrying the
 * server's own message (`{"error": {"code", "message"}}`), so the panel can show it as it is.
 */
import { fromBase64UrlEncoded } from 'lib0/buffer';
import type { Author } from '../documents/authors';
import { decodeDeletedRanges } from '../history/deleteSets';
import type { VersionSummary } from '../history/versionModel';
import type { AuthorDeletions } from './versionChanges';

export type { VersionSummary };

/** A version and the one before it (null for the first). */
export interface VersionDetail {
  version: VersionSummary;
  previousId: string | null;
  /**
   * Who deleted what since the previous version, as far as the server recorded it: empty for
   * older versions and edits relayed from other regions. Entries it cannot read are left out.
   */
  deletions: AuthorDeletions[];
}

/** Same bounds as the server's (POST /api/docs/<id>/versions). */
export const MAX_VERSION_NAME = 100;

export class HistoryApiError extends Error {
  constructor(
    message: string,
    /** The server's error code, or `network` / `bad-response` when there was no usable answer. */
    readonly code: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'HistoryApiError';
  }
}

type Fetch = typeof fetch;

export class HistoryApi {
  constructor(
    private readonly docId: string,
    private readonly token: string,
    private readonly fetchImpl: Fetch = (input, init) => fetch(input, init),
  ) {}

  /** Newest first. */
  async list(): Promise<VersionSummary[]> {
    const body = (await this.json(await this.request(this.path(), { method: 'GET' }))) as { versions?: VersionSummary[] };
    if (!Array.isArray(body.versions)) throw badResponse();
    return body.versions;
  }

  /** Saves the current content as a named version. */
  async name(name: string): Promise<VersionSummary> {
    const res = await this.request(this.path(), { method: 'POST', body: JSON.stringify({ name }) });
    const body = (await this.json(res)) as { version?: VersionSummary };
    if (!body.version) throw badResponse();
    return body.version;
  }

  async detail(versionId: string): Promise<VersionDetail> {
    const body = (await this.json(await this.request(this.path(versionId), { method: 'GET' }))) as Partial<VersionDetail>;
    if (!body.version || body.previousId === undefined) throw badResponse();
    return { version: body.version, previousId: body.previousId, deletions: readDeletions(body.deletions, versionId) };
  }

  /** The version's content as one Yjs update (apply it to a fresh Y.Doc). */
  async content(versionId: string): Promise<Uint8Array> {
    const res = await this.request(`${this.path(versionId)}?format=yjs`, { method: 'GET' });
    if (!res.ok) throw await errorOf(res);
    return new Uint8Array(await res.arrayBuffer());
  }

  private path(versionId?: string): string {
    const base = `/api/docs/${encodeURIComponent(this.docId)}/versions`;
    return versionId === undefined ? base : `${base}/${encodeURIComponent(versionId)}`;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.fetchImpl(path, { ...init, headers, cache: 'no-store' });
    } catch (err) {
      console.warn('concord: history request failed', path, err);
      throw new HistoryApiError('Could not reach the server. Check your connection and try again.', 'network', null);
    }
  }

  private async json(res: Response): Promise<unknown> {
    if (!res.ok) throw await errorOf(res);
    try {
      return await res.json();
    } catch (err) {
      console.warn('concord: unreadable history answer', res.status, err);
      throw badResponse();
    }
  }
}

type ErrorBody = { error?: { code?: unknown; message?: unknown } } | null;

/** The server's message when it sent one; otherwise one from the status. */
async function errorOf(res: Response): Promise<HistoryApiError> {
  let parsed: ErrorBody | null = null;
  try {
    parsed = (await res.json()) as ErrorBody;
  } catch (err) {
    console.warn('concord: history error without a JSON body', res.status, err);
  }
  const { code, message } = parsed?.error ?? {};
  if (typeof message === 'string' && message.length > 0) return new HistoryApiError(message, typeof code === 'string' ? code : 'error', res.status);
  return new HistoryApiError(fallbackMessage(res.status), 'error', res.status);
}

function fallbackMessage(status: number): string {
  if (status === 401 || status === 403) return 'This link may not do that.';
  if (status === 404) return 'That version no longer exists (it may have been thinned out).';
  if (status >= 500) return `The server could not do that (error ${status}). Try again in a moment.`;
  return `The server refused that (error ${status}).`;
}

/** Same rule as the authors map (lib/documents/authors.ts): the colour goes into a style. */
const COLOR = /^#[0-9a-fA-F]{6}$/;

/**
 * The detail's `deletions`, each `{"author": {"name", "color"}, "ranges": "<base64url>"}`. Who
 * deleted is an extra: a malformed entry is dropped (those deletions stay grey) and logged,
 * rather than failing the whole view.
 */
export function readDeletions(raw: unknown, versionId: string): AuthorDeletions[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    console.warn('concord: version deletions are not a list', versionId, raw);
    return [];
  }
  const result: AuthorDeletions[] = [];
  for (const entry of raw as unknown[]) {
    const parsed = readDeletion(entry);
    if (parsed instanceof Error) console.warn('concord: unreadable version deletions entry', versionId, parsed.message);
    else result.push(parsed);
  }
  return result;
}

function readDeletion(entry: unknown): AuthorDeletions | Error {
  const { author, ranges } = (typeof entry === 'object' && entry !== null ? entry : {}) as { author?: unknown; ranges?: unknown };
  const { name, color } = (typeof author === 'object' && author !== null ? author : {}) as { name?: unknown; color?: unknown };
  if (typeof name !== 'string' || name.length === 0 || typeof color !== 'string' || !COLOR.test(color)) return new Error('no valid author');
  if (typeof ranges !== 'string' || !/^[A-Za-z0-9_-]*$/.test(ranges)) return new Error('ranges are not base64url');
  try {
    const who: Author = { name, color };
    return { author: who, ranges: decodeDeletedRanges(fromBase64UrlEncoded(ranges)) };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function badResponse(): HistoryApiError {
  return new HistoryApiError('The server sent an answer this page cannot read. Reload the page and try again.', 'bad-response', null);
}
