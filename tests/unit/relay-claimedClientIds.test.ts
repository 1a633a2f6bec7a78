/**
 * The relay's record of client-id claims (server/relay/ClaimedClientIds.ts) on its own: what a
 * connection presented is compared with the claim recorded *now*, so a claim that arrives later
 * from another instance or region applies to connections already open.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ClaimedClientIds, MAX_CLAIMS_PER_CONNECTION, secretFingerprint } from '../../server/relay/ClaimedClientIds';
import { newClientOrigin } from '../../server/relay/origins';
import { ConnectionError } from '../../server/relay/errors';
import { CloseCode } from '../../lib/protocol/closeCodes';

const secret = (fill: number) => new Uint8Array(16).fill(fill);

describe('ClaimedClientIds', () => {
  it('records the first claim of an unwritten id, then knows its owner from anyone else', () => {
    const doc = new Y.Doc();
    const claimed = new ClaimedClientIds(doc);
    const owner = newClientOrigin();
    const other = newClientOrigin();
    expect(claimed.mayWrite(owner, 7)).toBeUndefined();
    const decision = claimed.decide(owner, { clientId: 7, secret: secret(1) }, false);
    expect(decision).toEqual({ kind: 'record', key: '7', fingerprint: secretFingerprint(secret(1)) });
    if (decision.kind === 'record') claimed.claimsMap.set(decision.key, decision.fingerprint);
    expect(claimed.mayWrite(owner, 7)).toBe(true);
    expect(claimed.mayWrite(other, 7)).toBe(false);
    expect(() => claimed.decide(other, { clientId: 7, secret: secret(2) }, false)).toThrow(ConnectionError);
    try {
      claimed.decide(other, { clientId: 7, secret: secret(2) }, false);
    } catch (err) {
      expect((err as ConnectionError).closeCode).toBe(CloseCode.clientIdTaken);
    }
    // The same secret on another connection (another tab of the same browser) proves it too.
    const tab = newClientOrigin();
    expect(claimed.decide(tab, { clientId: 7, secret: secret(1) }, false)).toEqual({ kind: 'proved' });
    expect(claimed.mayWrite(tab, 7)).toBe(true);
    claimed.forget(owner);
    expect(claimed.mayWrite(owner, 7)).toBe(false);
  });

  it('applies a claim that arrives later (replicated) to what open connections presented', () => {
    const doc = new Y.Doc();
    const claimed = new ClaimedClientIds(doc);
    const owner = newClientOrigin();
    const forger = newClientOrigin();
    // The id's history got here before its claim did: nobody can claim it here…
    doc.clientID = 9;
    doc.getText('title').insert(0, 'x');
    expect(claimed.decide(owner, { clientId: 9, secret: secret(3) }, false).kind).toBe('unclaimable');
    expect(claimed.decide(forger, { clientId: 9, secret: secret(4) }, false).kind).toBe('unclaimable');
    expect(claimed.mayWrite(owner, 9)).toBeUndefined();
    // …then the claim recorded elsewhere arrives.
    const remote = new Y.Doc();
    remote.getMap('clientClaims').set('9', secretFingerprint(secret(3)));
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote));
    expect(claimed.mayWrite(owner, 9)).toBe(true);
    expect(claimed.mayWrite(forger, 9)).toBe(false);
    // The writer set names the client that wrote the claim (updateGuard looks up only its items).
    expect(claimed.serverOnly.writers.has(remote.clientID)).toBe(true);
  });

  it('caps the claims of one connection', () => {
    const claimed = new ClaimedClientIds(new Y.Doc());
    const origin = newClientOrigin();
    for (let id = 1; id <= MAX_CLAIMS_PER_CONNECTION; id++) claimed.decide(origin, { clientId: id, secret: secret(1) }, false);
    expect(() => claimed.decide(origin, { clientId: MAX_CLAIMS_PER_CONNECTION + 1, secret: secret(1) }, false)).toThrow(/client-id claims/);
  });
});
