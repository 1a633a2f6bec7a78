/**
 * One authorisation rule for the relay and the API (server/auth/authorize.ts): the capability is
 * checked before deletion, so a stranger who knows a document ID learns nothing, not even that
 * it was deleted (issue #11).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/startServer';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { authorize } from '../../server/auth/authorize';
import { mintDocument, rotatedCapability, tokenVerifier, INITIAL_ACCESS } from '../../lib/auth/capabilities';
import { CloseCode } from '../../lib/protocol/closeCodes';
import { openRawSocket } from '../support/rawSocket';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(store = new MemoryStore()): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent' });
  cleanups.push(() => server.close());
  return server;
}

async function relayCloseCode(server: RunningServer, docId: string, token: string | undefined): Promise<number> {
  const raw = openRawSocket(`${server.wsUrl}/${docId}${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`);
  cleanups.push(() => raw.ws.terminate());
  const closed = await raw.closed;
  expect(raw.received).toHaveLength(0);
  return closed.code;
}

async function apiStatus(server: RunningServer, path: string, token: string | undefined): Promise<number> {
  const res = await fetch(`${server.url}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await res.body?.cancel();
  return res.status;
}

describe('authorisation of a deleted document', () => {
  it('refuses a wrong token with 4403 / 403 and only a right one learns 4410 / 410', async () => {
    const server = await serve();
    const caps = mintDocument();
    await server.store.createDocument(caps.docId);
    // A rotated-away edit link is not valid any more either: it is a stranger's.
    const rotated = rotatedCapability(caps.owner, 'edit', 1);
    await server.store.setAccess(caps.docId, { ...INITIAL_ACCESS, editEpoch: 1, editVerifier: tokenVerifier(rotated) });
    const deleted = await fetch(`${server.url}/api/docs/${caps.docId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${caps.owner}` } });
    expect(deleted.status).toBe(200);

    const strangers: [string, string | undefined][] = [
      ['another document\'s link', mintDocument().owner],
      ['not a token', 'not-a-token'],
      ['the edit link rotated away', caps.edit],
    ];
    for (const [what, token] of strangers) {
      expect(await relayCloseCode(server, caps.docId, token), what).toBe(CloseCode.forbidden);
      expect(await apiStatus(server, `/api/docs/${caps.docId}`, token), what).toBe(403);
      expect(await apiStatus(server, `/api/docs/${caps.docId}/export`, token), what).toBe(403);
    }
    expect(await relayCloseCode(server, caps.docId, undefined)).toBe(CloseCode.missingCapability);
    expect(await apiStatus(server, `/api/docs/${caps.docId}`, undefined)).toBe(401);

    for (const [what, token] of [['view', caps.view], ['rotated edit', rotated], ['owner', caps.owner]] as const) {
      expect(await relayCloseCode(server, caps.docId, token), what).toBe(CloseCode.documentDeleted);
      expect(await apiStatus(server, `/api/docs/${caps.docId}`, token), what).toBe(410);
    }
    // Deletion wins over a weak role: the view link may not delete, but it learns the document is gone.
    const res = await fetch(`${server.url}/api/docs/${caps.docId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${caps.view}` } });
    expect(res.status).toBe(410);
  });
});

describe('authorize', () => {
  it('checks token, validity, deletion and role in that order', async () => {
    const store = new MemoryStore();
    const caps = mintDocument();
    expect(await authorize(store, caps.docId, null, 'view')).toMatchObject({ ok: false, refusal: 'missing-token' });
    expect(await authorize(store, caps.docId, caps.view, 'edit')).toMatchObject({ ok: false, refusal: 'insufficient-role', role: 'view' });
    expect(await authorize(store, caps.docId, caps.edit, 'edit')).toEqual({ ok: true, role: 'edit', access: INITIAL_ACCESS });
    await store.deleteDocument(caps.docId);
    expect(await authorize(store, caps.docId, mintDocument().view, 'view')).toEqual({ ok: false, refusal: 'forbidden', role: null });
    expect(await authorize(store, caps.docId, caps.view, 'owner')).toMatchObject({ ok: false, refusal: 'deleted', role: 'view' });
  });
});
