/**
 * Share-link capabilities: a hash chain that proves itself, so any server, instance or region can
 * verify a link without asking another, and a browser can mint all links offline.
 *
 *   owner secret  (32 random bytes)
 *     └─ edit   = H("edit", owner)
 *          └─ view = H("view", edit)
 *               └─ document ID = first 22 base64url chars of H("id", view)
 *
 * Hashing only goes down the chain, so no link can be turned into a stronger one. Rotated links
 * (see `rotatedCapability`) leave the chain; the server then keeps the SHA-256 of the current
 * rotated token in the document's access metadata and checks against that.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer';
import { DOC_ID_LENGTH } from '../ids';

export type Role = 'owner' | 'edit' | 'view';

/** Roles in increasing power. */
export const ROLE_RANK: Record<Role, number> = { view: 1, edit: 2, owner: 3 };

export function roleAllows(role: Role, needed: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

const TOKEN_BYTES = 32;
/** A capability token: 32 bytes as unpadded base64url. */
export const CAPABILITY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function isCapabilityToken(value: unknown): value is string {
  return typeof value === 'string' && CAPABILITY_PATTERN.test(value);
}

const encoder = new TextEncoder();

function hash(label: string, input: Uint8Array): Uint8Array {
  const prefix = encoder.encode(`concord/cap/v1/${label}\0`);
  const message = new Uint8Array(prefix.length + input.length);
  message.set(prefix);
  message.set(input, prefix.length);
  return sha256(message);
}

function decode(token: string): Uint8Array {
  if (!isCapabilityToken(token)) throw new RangeError('not a capability token');
  return fromBase64UrlEncoded(token);
}

export function editFromOwner(owner: string): string {
  return toBase64UrlEncoded(hash('edit', decode(owner)));
}

export function viewFromEdit(edit: string): string {
  return toBase64UrlEncoded(hash('view', decode(edit)));
}

export function docIdFromView(view: string): string {
  return toBase64UrlEncoded(hash('id', decode(view))).slice(0, DOC_ID_LENGTH);
}

export interface DocumentCapabilities {
  docId: string;
  owner: string;
  edit: string;
  view: string;
}

/** Mints a new document: a random owner secret and everything derived from it. */
export function mintDocument(): DocumentCapabilities {
  const bytes = new Uint8Array(TOKEN_BYTES);
  globalThis.crypto.getRandomValues(bytes);
  return capabilitiesFromOwner(toBase64UrlEncoded(bytes));
}

export function capabilitiesFromOwner(owner: string): DocumentCapabilities {
  const edit = editFromOwner(owner);
  const view = viewFromEdit(edit);
  return { docId: docIdFromView(view), owner, edit, view };
}

/**
 * A rotated edit or view token, derived from the owner secret and a rotation counter so the
 * owner can recompute current links on any device.
 */
export function rotatedCapability(owner: string, role: 'edit' | 'view', epoch: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError('rotation epoch must be a positive integer');
  return toBase64UrlEncoded(hash(`${role}-rotated-${epoch}`, decode(owner)));
}

/** SHA-256 of a token, as stored in access metadata for rotated links. */
export function tokenVerifier(token: string): string {
  return toBase64UrlEncoded(hash('verifier', decode(token)));
}

/** Per-document access state kept by the server (and replicated with the document). */
export interface AccessState {
  /** 0 = the chain-derived edit link is valid; n = only rotated edit token n is. */
  editEpoch: number;
  editVerifier: string | null;
  viewEpoch: number;
  viewVerifier: string | null;
  deleted: boolean;
}

export const INITIAL_ACCESS: AccessState = Object.freeze({
  editEpoch: 0,
  editVerifier: null,
  viewEpoch: 0,
  viewVerifier: null,
  deleted: false,
});

/**
 * Merges two access states as a CRDT (a join): regions and instances that changed access
 * concurrently converge on the same state whatever order they merge in (commutative,
 * associative, idempotent). Per link, the higher rotation epoch wins with its verifier, so no
 * rotation is lost and a rotated-away link never comes back; deletion is final (issue #12).
 */
/** True when two access states are the same in every field. */
export function sameAccess(a: AccessState, b: AccessState): boolean {
  return a.deleted === b.deleted && a.editEpoch === b.editEpoch && a.viewEpoch === b.viewEpoch && a.editVerifier === b.editVerifier && a.viewVerifier === b.viewVerifier;
}

export function mergeAccess(a: AccessState, b: AccessState): AccessState {
  const edit = mergeLink(a.editEpoch, a.editVerifier, b.editEpoch, b.editVerifier);
  const view = mergeLink(a.viewEpoch, a.viewVerifier, b.viewEpoch, b.viewVerifier);
  return { editEpoch: edit[0], editVerifier: edit[1], viewEpoch: view[0], viewVerifier: view[1], deleted: a.deleted || b.deleted };
}

function mergeLink(epochA: number, verifierA: string | null, epochB: number, verifierB: string | null): [number, string | null] {
  if (epochA !== epochB) return epochA > epochB ? [epochA, verifierA] : [epochB, verifierB];
  // Equal epochs have equal verifiers (rotated tokens derive from the owner secret and the
  // epoch); should they ever differ, the larger wins in both orders. null sorts first.
  if (verifierA === null) return [epochB, verifierB];
  if (verifierB === null) return [epochA, verifierA];
  return [epochA, verifierA > verifierB ? verifierA : verifierB];
}

/**
 * The role a token grants on a document, or null. Never throws on bad input.
 * Deletion is checked by the caller (a deleted document refuses everyone).
 */
export function roleFor(docId: string, token: string, access: AccessState = INITIAL_ACCESS): Role | null {
  if (!isCapabilityToken(token)) return null;
  // Chain walk: try the token as a view, an edit and an owner capability in turn.
  if (access.viewEpoch === 0 && docIdFromView(token) === docId) return 'view';
  if (access.editEpoch === 0 && docIdFromView(viewFromEdit(token)) === docId) return 'edit';
  if (docIdFromView(viewFromEdit(editFromOwner(token))) === docId) return 'owner';
  // Rotated tokens are not on the chain: compare with the stored verifiers.
  if (access.editVerifier !== null || access.viewVerifier !== null) {
    const verifier = tokenVerifier(token);
    if (access.editVerifier === verifier) return 'edit';
    if (access.viewVerifier === verifier) return 'view';
  }
  return null;
}

/** The current share links' tokens, as the owner computes them from its secret and the epochs. */
export function currentCapabilities(owner: string, access: Pick<AccessState, 'editEpoch' | 'viewEpoch'>): DocumentCapabilities {
  const base = capabilitiesFromOwner(owner);
  return {
    ...base,
    edit: access.editEpoch === 0 ? base.edit : rotatedCapability(owner, 'edit', access.editEpoch),
    view: access.viewEpoch === 0 ? base.view : rotatedCapability(owner, 'view', access.viewEpoch),
  };
}
