/**
 * The relay's side of client-id claims (lib/protocol/clientClaims.ts): which Yjs client ids are
 * claimed in a document, by whom, and which connections proved they hold the secret. The claims
 * themselves live in the document (Y.Map `clientClaims`, written only by the server), so they are
 * stored, outlive the connection and the room, and replicate to other instances and regions with
 * everything else; what a connection presented is kept here, for as long as it is open, and
 * compared with the claim recorded now — so a claim that reaches this server later (from another
 * instance or region) applies to connections already open, both ways.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as Y from 'yjs';
import { CLIENT_CLAIMS_MAP, clientClaimsMap, type ClientClaim } from '../../lib/protocol/clientClaims';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { ConnectionError, ProtocolError } from './errors';
import type { ChangeOrigin } from './origins';
import type { ServerOnlyRoot } from './updateGuard';

/** Claims one connection may make: an editor claims the ids it holds secrets for (lib/client/ClientIdClaims). */
export const MAX_CLAIMS_PER_CONNECTION = 64;

/** What to do with a claim: nothing more (proved), record it in the document, or leave the id unclaimed. */
export type ClaimDecision =
  | { kind: 'proved' }
  | { kind: 'record'; key: string; fingerprint: string }
  | { kind: 'unclaimable'; reason: string };

/** The fingerprint stored for a secret: enough of its SHA-256 that nobody finds another secret with it. */
export function secretFingerprint(secret: Uint8Array): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 22);
}

export class ClaimedClientIds {
  /** The fingerprints each open connection presented, by client id. */
  private readonly presented = new Map<ChangeOrigin, Map<number, string>>();
  private readonly claims: Y.Map<string>;
  readonly serverOnly: ServerOnlyRoot;

  /** Client ids that wrote any entry of the claims map, deleted ones included (see ServerOnlyRoot). */
  private readonly claimWriters = new Set<number>();

  constructor(private readonly doc: Y.Doc) {
    this.claims = clientClaimsMap(doc);
    this.serverOnly = { name: CLIENT_CLAIMS_MAP, type: this.claims, writers: this.claimWriters };
    for (const key of this.claims._map.keys()) this.noteWritersOf(key);
    // Claims change rarely (once per editor page load): keep the writer set exact after each.
    this.claims.observe((event) => {
      for (const key of event.keysChanged) this.noteWritersOf(key);
    });
  }

  /** The claims map, to record a claim in (as the server's own change). */
  get claimsMap(): Y.Map<string> {
    return this.claims;
  }

  /**
   * Decides on `origin`'s claim. `ownedByOther`: another open connection writes this id without a
   * claim (a stock client): it keeps it. Throws ConnectionError 4409 for a wrong secret and
   * ProtocolError past the per-connection cap.
   */
  decide(origin: ChangeOrigin, claim: ClientClaim, ownedByOther: boolean): ClaimDecision {
    let presented = this.presented.get(origin);
    if (!presented) this.presented.set(origin, (presented = new Map()));
    if (presented.size >= MAX_CLAIMS_PER_CONNECTION && !presented.has(claim.clientId)) {
      throw new ProtocolError(`more than ${MAX_CLAIMS_PER_CONNECTION} client-id claims on one connection`);
    }
    const key = String(claim.clientId);
    const fingerprint = secretFingerprint(claim.secret);
    presented.set(claim.clientId, fingerprint);
    const stored = this.claims.get(key);
    if (stored !== undefined) {
      if (!sameFingerprint(stored, fingerprint)) throw new ConnectionError(CloseCode.clientIdTaken, `client id ${key} is claimed by another replica`);
      return { kind: 'proved' };
    }
    // Only an id nobody has written yet can be claimed: history already here was written without
    // a claim, by a stock client or an older editor, which must not be locked out of its own id.
    if (Y.getState(this.doc.store, claim.clientId) > 0) return { kind: 'unclaimable', reason: 'the document already holds history of this id' };
    if (ownedByOther) return { kind: 'unclaimable', reason: 'another connection writes this id' };
    return { kind: 'record', key, fingerprint };
  }

  /** True when `origin` presented the secret of `clientId`'s claim, false when it did not, undefined when nobody claimed it. */
  mayWrite(origin: ChangeOrigin, clientId: number): boolean | undefined {
    // Per written client of every client update: a document with no claims decides without a key.
    if (this.claims._map.size === 0) return undefined;
    const stored = this.claims.get(String(clientId));
    if (stored === undefined) return undefined;
    const presented = this.presented.get(origin)?.get(clientId);
    return presented !== undefined && sameFingerprint(presented, stored);
  }

  /** Every client that wrote `key`, its overwritten and deleted entries included (they stay linked left). */
  private noteWritersOf(key: string): void {
    for (let item: Y.Item | null = this.claims._map.get(key) ?? null; item !== null; item = item.left) this.claimWriters.add(item.id.client);
  }

  forget(origin: ChangeOrigin): void {
    this.presented.delete(origin);
  }
}

function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
