/**
 * Offline-first: the app opens with no network (service worker), documents created offline reach
 * the server later, and tabs cut from the relay keep everything across reloads.
 */
import { expect, test, type Page } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor, waitForEditor } from './support';

declare global {
  interface Window {
    /** Every WebSocket the page constructed (kept by an init script). */
    __sockets?: WebSocket[];
  }
}

/** Waits until the service worker has kept this page and its files for offline use. */
async function untilAvailableOffline(page: Page): Promise<void> {
  await expect(page.getByTestId('offline-readiness')).toHaveAttribute('data-state', 'ready');
}

test('a tab cut from the relay keeps its edits across an offline reload, then both tabs converge', async ({ browser, baseURL }) => {
  const { url, page: b } = await createDocument(browser, baseURL!);
  // Every socket this person's page opens, from the first, kept in the page: the only way its
  // edits reach anyone. (Playwright's own socket events cannot show a close while the browser is
  // offline: Chromium holds the closing handshake until the network is back.)
  const aContext = await browser.newContext();
  await aContext.addInitScript(() => {
    const NativeWebSocket = window.WebSocket;
    const sockets: WebSocket[] = [];
    window.__sockets = sockets;
    window.WebSocket = class extends NativeWebSocket {
      constructor(...args: ConstructorParameters<typeof NativeWebSocket>) {
        super(...args);
        sockets.push(this);
      }
    };
  });
  const a = await aContext.newPage();
  await a.goto(url);
  await waitForEditor(a);
  await typeInEditor(a, 'shared start');
  await expect.poll(() => editorText(b)).toBe('shared start');
  await untilAvailableOffline(a);

  // Cut for real: every WebSocket from this person's context is closed at once (setOffline alone
  // does not close open sockets in Chromium), and the network is gone for pages too.
  let relayCut = true;
  await a.context().routeWebSocket(/\/ws\//, (ws) => {
    if (relayCut) ws.close({ code: 4999, reason: 'cut by test' });
    else ws.connectToServer();
  });
  await a.context().setOffline(true);
  const status = a.getByTestId('status');
  await expect(status).toHaveAttribute('data-status', 'offline');
  // Proof the socket is really cut before the edit: every socket the page opened is closing or
  // closed, and such a socket never transmits again (the app drops its own when the browser goes
  // offline; the route closes later ones before they reach the server). So the edit below has
  // no way to the relay or to the other person.
  await expect
    .poll(() => a.evaluate(() => window.__sockets!.length > 0 && window.__sockets!.every((ws) => ws.readyState >= WebSocket.CLOSING)))
    .toBe(true);
  await typeInEditor(a, ' kept locally');
  await expect(status).toHaveText(/Offline — \d+ edits? kept on this device, not yet saved/);
  // The other person keeps working, and sees only their own edit.
  await typeInEditor(b, ' meanwhile');
  await expect.poll(() => editorText(b)).toBe('shared start meanwhile');

  // Reload while still offline: the page comes from the service worker, the text from this
  // device's replica, and the unsaved count survives.
  await a.reload();
  await a.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(a)).toBe('shared start kept locally');
  await expect(status).toHaveText(/Offline — \d+ edits? kept on this device, not yet saved/);

  // Back online: both converge to text holding everything, and the edits are saved.
  relayCut = false;
  await a.context().setOffline(false);
  await expect(status).toHaveAttribute('data-status', 'saved');
  await expect(status).toHaveText('All changes saved');
  await expect.poll(async () => (await editorText(a)) === (await editorText(b))).toBe(true);
  const text = await editorText(b);
  expect(text).toContain('kept locally');
  expect(text).toContain('meanwhile');
});

test('a document opens with no network, and one created offline reaches the server later', async ({ browser, baseURL }) => {
  const { url, page } = await createDocument(browser, baseURL!);
  await typeInEditor(page, 'visited once');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await untilAvailableOffline(page);
  const context = page.context();
  // The landing page must be kept too, for "New document" offline.
  await page.goto(`${baseURL}/`);
  await expect(page.getByTestId('new-document')).toBeEnabled();
  await page.close();

  await context.setOffline(true);
  const again = await context.newPage();
  await again.goto(url);
  await again.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(again)).toBe('visited once');
  await expect(again.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await typeInEditor(again, ' and edited offline');
  await expect.poll(() => editorText(again)).toBe('visited once and edited offline');

  // A new document, created with no network: the browser mints its ID and links. The start
  // page lists the first document's edit as kept here, waiting for the network.
  await again.goto(`${baseURL}/`);
  await expect(again.locator(`[data-doc-id="${new URL(url).pathname.split('/')[2]}"]`).getByTestId('kept-edits')).toHaveAttribute('data-state', 'waiting');
  await again.getByTestId('new-document').click();
  await again.waitForURL(/\/d\/[A-Za-z0-9_-]{22}#token=/);
  await again.waitForFunction(() => window.__concord?.ready === true);
  const offlineUrl = again.url();
  expect(offlineUrl).not.toBe(url);
  expect(await again.evaluate(() => window.__concord!.docId)).toBe(new URL(offlineUrl).pathname.split('/')[2]);
  await again.getByTestId('title').fill('Born offline');
  await typeInEditor(again, 'written with no network');
  await expect(again.getByTestId('status')).toHaveText(/Offline — \d+ edits? kept on this device, not yet saved/);

  await context.setOffline(false);
  await expect(again.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // Its link works everywhere: a fresh person with no local state sees it.
  const stranger = await openAs(browser, offlineUrl);
  await expect.poll(() => editorText(stranger)).toBe('written with no network');
  await expect.poll(() => stranger.evaluate(() => window.__concord!.getTitle())).toBe('Born offline');
  // The first document is no longer open anywhere: the start page saves its kept edit.
  await again.goto(`${baseURL}/`);
  const firstDocId = new URL(url).pathname.split('/')[2]!;
  const kept = again.locator(`[data-doc-id="${firstDocId}"]`).getByTestId('kept-edits');
  await expect(kept).toHaveAttribute('data-state', 'saved');
  await expect(kept).toHaveText(/^\d+ edits? from this device saved$/);
  const other = await openAs(browser, url);
  await expect.poll(() => editorText(other)).toBe('visited once and edited offline');
});

test('tabs of one browser share edits live while offline', async ({ browser, baseURL }) => {
  const { url, page: first } = await createDocument(browser, baseURL!);
  const second = await first.context().newPage();
  await second.goto(url);
  await waitForEditor(second);
  await first.context().setOffline(true);
  await expect(first.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await expect(second.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await typeInEditor(first, 'from the first tab');
  await expect.poll(() => editorText(second)).toBe('from the first tab');
  await typeInEditor(second, ', and the second');
  await expect.poll(() => editorText(first)).toBe('from the first tab, and the second');
});
