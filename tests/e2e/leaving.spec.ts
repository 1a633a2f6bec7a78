/**
 * Leaving the page warns only when edits could be lost: neither confirmed stored by the server
 * nor written to this device's IndexedDB.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { editorText, typeInEditor } from './support';

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
  await page.waitForTimeout(300); // IndexedDB writes take milliseconds
  expect(await leaveAndCountWarnings(page)).toBe(0);
});

test('does not warn when every edit is saved by the server', async ({ browser, baseURL }) => {
  const page = await open(browser, await newDocumentUrl(baseURL!), { brokenIndexedDb: true, relayCut: false });
  await typeInEditor(page, 'stored on the server');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  expect(await leaveAndCountWarnings(page)).toBe(0);
});
