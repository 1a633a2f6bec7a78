/**
 * The documents API changes access through DocumentStore.updateAccess, so rotations computed
 * from the state read at authorisation cannot overwrite each other (issue #12: "concurrent
 * rotations may not lose either").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/startServer';
import type { DocumentInfo } from '../../server/storage/DocumentStore';
import { MemoryStore } from '../../server/storage/MemoryStore';
import { mintDocument } from '../../lib/auth/capabilities';

/**
 * Holds every getDocument (the API's authorisation read) until `count` of them wait, so the
 * requests provably all read access before any of them writes it: the interleaving the race needs.
 */
class ReadBarrierStore extends MemoryStore {
  private waiting: (() => void)[] = [];
  private count = 0;

  holdReads(count: number): void {
    this.count = count;
  }

  override async getDocument(docId: string): Promise<DocumentInfo | null> {
    if (this.count > 0) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        if (this.waiting.length >= this.count) {
          this.count = 0;
          for (const release of this.waiting.splice(0)) release();
        }
      });
    }
    return super.getDocument(docId);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function serve(store: MemoryStore): Promise<RunningServer> {
  const server = await startServer({ port: 0, host: '127.0.0.1', store, next: false, logLevel: 'silent' });
  cleanups.push(() => server.close());
  return server;
}

function api(server: RunningServer, path: string, token: string, init: { method?: string; body?: string } = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: init.method ?? 'GET', body: init.body, headers: { Authorization: `Bearer ${token}` } });
}

describe('documents API access changes', () => {
  it('counts two rotations whose authorisations both read the old state', async () => {
    const store = new ReadBarrierStore();
    const server = await serve(store);
    const caps = mintDocument();
    await store.createDocument(caps.docId);
    store.holdReads(2);
    const rotate = () => api(server, `/api/docs/${caps.docId}/rotate`, caps.owner, { method: 'POST', body: '{"edit":true}' });
    const responses = await Promise.all([rotate(), rotate()]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const editUrls = await Promise.all(responses.map(async (r) => ((await r.json()) as { editUrl: string }).editUrl));
    expect(new Set(editUrls).size).toBe(2); // each caller got the link its own rotation made
    const info = (await (await api(server, `/api/docs/${caps.docId}`, caps.owner)).json()) as { rotations: { edit: number } };
    expect(info.rotations.edit).toBe(2);
    expect((await store.getDocument(caps.docId))?.access.editEpoch).toBe(2);
  });

  it('does not bring back a document deleted while a rotation was being authorised', async () => {
    const store = new ReadBarrierStore();
    const server = await serve(store);
    const caps = mintDocument();
    await store.createDocument(caps.docId);
    store.holdReads(2);
    const [rotated, deleted] = await Promise.all([
      api(server, `/api/docs/${caps.docId}/rotate`, caps.owner, { method: 'POST', body: '{"view":true}' }),
      api(server, `/api/docs/${caps.docId}`, caps.owner, { method: 'DELETE' }),
    ]);
    expect(deleted.status).toBe(200);
    // Whichever wrote first, the document ends deleted; a rotation after the deletion says so.
    expect([200, 410]).toContain(rotated.status);
    await rotated.body?.cancel();
    expect((await store.getDocument(caps.docId))?.access.deleted).toBe(true);
    expect((await api(server, `/api/docs/${caps.docId}`, caps.owner)).status).toBe(410);
  });
});
