import { describe, expect, it } from 'vitest';
import {
  capabilitiesFromOwner,
  currentCapabilities,
  INITIAL_ACCESS,
  isCapabilityToken,
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
