/**
 * The one authorisation rule, shared by the relay's door and the HTTP API: who may do what to a
 * document. It returns a value; each caller maps a refusal to its own close code or HTTP status.
 *
 * The capability is checked before deletion, so a stranger who only knows a document ID learns
 * nothing about it, not even that it was deleted (issue #11).
 */
import { INITIAL_ACCESS, roleAllows, roleFor, type AccessState, type Role } from '../../lib/auth/capabilities';
import type { DocumentStore } from '../storage/DocumentStore';

/** Why a request was refused, strongest reason first in the order they are checked. */
export type Refusal =
  /** No token was presented. */
  | 'missing-token'
  /** The token is not valid for this document (never was, or was rotated away). */
  | 'forbidden'
  /** A valid token, but the document is deleted. */
  | 'deleted'
  /** A valid token on a live document, but too weak for what was asked. */
  | 'insufficient-role';

export type Authorization =
  | { ok: true; role: Role; access: AccessState }
  | { ok: false; refusal: Refusal; role: Role | null };

/**
 * Checks `token` against the document's stored access state: token present, valid for this
 * document, document not deleted, role at least `needed`. `docId` must already be well formed.
 * Rejects only if the store does.
 */
export async function authorize(
  store: Pick<DocumentStore, 'getDocument'>,
  docId: string,
  token: string | null,
  needed: Role,
): Promise<Authorization> {
  if (!token) return { ok: false, refusal: 'missing-token', role: null };
  const info = await store.getDocument(docId);
  const access = info?.access ?? INITIAL_ACCESS;
  const role = roleFor(docId, token, access);
  if (role === null) return { ok: false, refusal: 'forbidden', role: null };
  if (access.deleted) return { ok: false, refusal: 'deleted', role };
  if (!roleAllows(role, needed)) return { ok: false, refusal: 'insufficient-role', role };
  return { ok: true, role, access };
}
