import { describe, expect, it } from 'vitest';
import {
  capabilitiesFromOwner,
  currentCapabilities,
  INITIAL_ACCESS,
  isCapabilityToken,
  mergeAccess,
  mintDocument,
  roleFor,
  rotatedCapability,
  tokenVerifier,
  type AccessState,
} from '../../lib/auth/capabilities';
import { isDocId, newDocId } from '../../lib/ids';

describe('share-link capabilities', () => {
  it('mints a document whose ID has the v0 format and whose tokens are well-formed', () => {
    const caps = mintDocument();
    expect(isDocId(caps.docId)).toBe(true);
    for (const token of [caps.owner, caps.edit, caps.view]) expect(isCapabilityToken(token)).toBe(true);
    expect(new Set([caps.owner, caps.edit, caps.view]).size).toBe(3);
  });

  it('derives the same links from the owner secret every time', () => {
    const caps = mintDocument();
    expect(capabilitiesFromOwner(caps.owner)).toEqual(caps);
  });

  it('gives each token its own role, and nothing to other documents', () => {
    const caps = mintDocument();
    expect(roleFor(caps.docId, caps.owner)).toBe('owner');
    expect(roleFor(caps.docId, caps.edit)).toBe('edit');
    expect(roleFor(caps.docId, caps.view)).toBe('view');
    const other = mintDocument();
    expect(roleFor(other.docId, caps.owner)).toBeNull();
    expect(roleFor(newDocId(), caps.edit)).toBeNull();
  });

  it('refuses malformed tokens without throwing', () => {
    const { docId } = mintDocument();
    for (const bad of ['', 'x', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}!`, '😀'.repeat(20)]) {
      expect(roleFor(docId, bad)).toBeNull();
    }
  });

  it('stops accepting rotated-away links and accepts the new ones', () => {
    const caps = mintDocument();
    const newEdit = rotatedCapability(caps.owner, 'edit', 1);
    const access: AccessState = { ...INITIAL_ACCESS, editEpoch: 1, editVerifier: tokenVerifier(newEdit) };
    expect(roleFor(caps.docId, caps.edit, access)).toBeNull();
    expect(roleFor(caps.docId, newEdit, access)).toBe('edit');
    expect(roleFor(caps.docId, caps.view, access)).toBe('view'); // view link not rotated
    expect(roleFor(caps.docId, caps.owner, access)).toBe('owner');
    const newView = rotatedCapability(caps.owner, 'view', 1);
    const both: AccessState = { ...access, viewEpoch: 1, viewVerifier: tokenVerifier(newView) };
    expect(roleFor(caps.docId, caps.view, both)).toBeNull();
    expect(roleFor(caps.docId, newView, both)).toBe('view');
    expect(currentCapabilities(caps.owner, both)).toEqual({ ...caps, edit: newEdit, view: newView });
  });

  it('cannot turn a view link into an edit link', () => {
    const caps = mintDocument();
    // The only way up the chain would be inverting SHA-256; check the obvious confusions fail.
    expect(roleFor(caps.docId, caps.view)).toBe('view');
    expect(capabilitiesFromOwner(caps.view).docId).not.toBe(caps.docId);
    expect(capabilitiesFromOwner(caps.edit).docId).not.toBe(caps.docId);
  });
});

describe('mergeAccess (a CRDT join of access states, issue #12)', () => {
  /** mulberry32: a seeded generator, so a failing law names a state that can be replayed. */
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Few epochs and verifiers, so equal epochs with different (or null) verifiers come up often:
  // the laws must hold even for states that honest rotations never produce.
  const verifiers = [null, 'v-a', 'v-b', 'v-c'];
  function randomState(next: () => number): AccessState {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    return {
      editEpoch: Math.floor(next() * 3),
      editVerifier: pick(verifiers),
      viewEpoch: Math.floor(next() * 3),
      viewVerifier: pick(verifiers),
      deleted: next() < 0.3,
    };
  }

  const SEED = 12;
  const ROUNDS = 3000;

  it('is commutative, associative and idempotent over random states', () => {
    const next = random(SEED);
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b, c] = [randomState(next), randomState(next), randomState(next)];
      const context = { seed: SEED, round: i, a, b, c };
      expect({ ...context, merged: mergeAccess(a, b) }).toEqual({ ...context, merged: mergeAccess(b, a) });
      expect({ ...context, merged: mergeAccess(mergeAccess(a, b), c) }).toEqual({ ...context, merged: mergeAccess(a, mergeAccess(b, c)) });
      expect({ ...context, merged: mergeAccess(a, a) }).toEqual({ ...context, merged: a });
    }
  });

  it('lets the higher rotation of each link win with its verifier, and keeps deletion final', () => {
    const owner = mintDocument().owner;
    const rotation = (role: 'edit' | 'view', epoch: number) => tokenVerifier(rotatedCapability(owner, role, epoch));
    // Region A rotated the edit link twice; region B rotated the view link once and deleted.
    const a: AccessState = { ...INITIAL_ACCESS, editEpoch: 2, editVerifier: rotation('edit', 2) };
    const b: AccessState = { ...INITIAL_ACCESS, viewEpoch: 1, viewVerifier: rotation('view', 1), deleted: true };
    expect(mergeAccess(a, b)).toEqual({
      editEpoch: 2,
      editVerifier: rotation('edit', 2),
      viewEpoch: 1,
      viewVerifier: rotation('view', 1),
      deleted: true,
    });
    // A partitioned region that never saw the deletion cannot bring the document back.
    expect(mergeAccess(mergeAccess(a, b), { ...a, editEpoch: 3, editVerifier: rotation('edit', 3) }).deleted).toBe(true);
    // The same rotation done in two regions is one rotation.
    expect(mergeAccess(a, { ...a })).toEqual(a);
  });
});
