/**
 * Leaving the page warns only when edits could be lost: neither confirmed stored by the server
 * nor written to this device's IndexedDB.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import * as Y from 'yjs';
import { exportDocument } from '../../lib/documents/exportDocument';
import { editorText, typeInEditor } from './support';

/**
 * The document text of this page's local replica as IndexedDB holds it now (y-indexeddb's
 * `updates` store in `concord:<docId>`). The read is a transaction after the editor's own
 * write transactions, so once it sees an edit, the editor has seen that edit's write complete.
 */
async function replicaText(page: Page): Promise<string> {
  const updates = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(`concord:${window.__concord!.docId}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('could not open the local replica'));
    });
    try {
      if (!db.objectStoreNames.contains('updates')) return []; // not created by the editor yet
      return await new Promise<number[][]>((resolve, reject) => {
        const request = db.transaction('updates', 'readonly').objectStore('updates').getAll();
        request.onsuccess = () => resolve((request.result as Uint8Array[]).map((update) => Array.from(update)));
        request.onerror = () => reject(request.error ?? new Error('could not read the local replica'));
      });
    } finally {
      db.close();
    }
  });
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, Uint8Array.from(update));
  return exportDocument(doc, 'txt').body;
}

async function newDocumentUrl(baseURL: string): Promise<string> {
  const res = await fetch(`${baseURL}/api/docs`, { method: 'POST' });
  return ((await res.json()) as { editUrl: string }).editUrl;
}

/** One person; optionally with IndexedDB that never opens, and with the relay cut. */
async function open(browser: Browser, url: string, { brokenIndexedDb, relayCut }: { brokenIndexedDb: boolean; relayCut: boolean }): Promise<Page> {
  const context = await browser.newContext();
  if (brokenIndexedDb) {
    await context.addInitScript(() => {
      // A request whose callbacks never fire: the local replica never opens.
      Object.defineProperty(window, 'indexedDB', { value: { open: () => ({}), deleteDatabase: () => ({}) } });
    });
  }
  if (relayCut) await context.routeWebSocket(/\/ws\//, (ws) => ws.close({ code: 4999, reason: 'cut by test' }));
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__concord?.ready === true);
  return page;
}

/** Closes the page as a person would (running beforeunload); returns whether it asked to stay. */
async function leaveAndCountWarnings(page: Page): Promise<number> {
  let warnings = 0;
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'beforeunload') warnings++;
    void dialog.accept();
  });
  await page.close({ runBeforeUnload: true });
  await page.waitForEvent('close');
  return warnings;
}

test('warns when edits are neither saved by the server nor kept in IndexedDB', async ({ browser, baseURL }) => {
  const page = await open(browser, await newDocumentUrl(baseURL!), { brokenIndexedDb: true, relayCut: true });
  await typeInEditor(page, 'only in memory');
  await expect.poll(() => page.evaluate(() => window.__concord!.unsavedEdits())).toBeGreaterThan(0);
  expect(await leaveAndCountWarnings(page)).toBe(1);
});

test('does not warn when unsaved edits are kept in IndexedDB', async ({ browser, baseURL }) => {
  const page = await open(browser, await newDocumentUrl(baseURL!), { brokenIndexedDb: false, relayCut: true });
  await typeInEditor(page, 'kept on this device');
  expect(await editorText(page)).toBe('kept on this device');
  await expect.poll(() => page.evaluate(() => window.__concord!.unsavedEdits())).toBeGreaterThan(0);
  await expect.poll(() => replicaText(page)).toContain('kept on this device');
  expect(await leaveAndCountWarnings(page)).toBe(0);
});

test('does not warn when every edit is saved by the server', async ({ browser, baseURL }) => {
  const page = await open(browser, await newDocumentUrl(baseURL!), { brokenIndexedDb: true, relayCut: false });
  await typeInEditor(page, 'stored on the server');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  expect(await leaveAndCountWarnings(page)).toBe(0);
});
