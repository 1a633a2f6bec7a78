import fs from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { MAX_RETRY_MS } from '../../lib/client/backoff';
import { createDocument, editorText, openAs, typeInEditor, waitForEditor } from './support';

declare global {
  interface Window {
    /** WebSockets the page has constructed (counted by an init script). */
    __socketsOpened?: number;
  }
}

test('a view link reads live but cannot change the document', async ({ browser, baseURL }) => {
  const { page: owner } = await createDocument(browser, baseURL!);
  await typeInEditor(owner, 'written by the owner');
  await owner.getByTestId('share').click();
  const viewUrl = await owner.getByTestId('view-link').inputValue();
  const editUrl = await owner.getByTestId('edit-link').inputValue();
  expect(viewUrl).not.toBe(editUrl);

  const viewer = await openAs(browser, viewUrl, 'Viewer');
  await expect(viewer.getByTestId('view-only')).toBeVisible();
  await expect.poll(() => editorText(viewer)).toBe('written by the owner');
  await expect(viewer.locator('.ProseMirror')).toHaveAttribute('contenteditable', 'false');
  await expect(viewer.getByTestId('title')).toHaveAttribute('readonly', '');

  // Typing does nothing, even forced through the DOM.
  await viewer.locator('.ProseMirror').click();
  await viewer.keyboard.type('vandal');
  await viewer.evaluate(() => {
    const p = document.querySelector('.ProseMirror p');
    if (p) p.textContent = 'forced through the DOM';
  });

  // The owner keeps typing and the viewer sees it live; nobody sees the viewer's attempts.
  await typeInEditor(owner, ' and more');
  await expect.poll(() => editorText(viewer)).toContain('written by the owner and more');
  expect(await editorText(owner)).toBe('written by the owner and more');
  const fresh = await openAs(browser, editUrl);
  await expect.poll(() => editorText(fresh)).toBe('written by the owner and more');
  await expect(owner.getByTestId('presence')).toContainText('Viewer · viewer');
});

test('a rotated link stops working, says so, and stops retrying', async ({ browser, baseURL }) => {
  const { page: owner } = await createDocument(browser, baseURL!);
  await owner.getByTestId('share').click();
  const editUrl = await owner.getByTestId('edit-link').inputValue();
  // The editor's clock is Playwright's, so the test can run every timer a retry could have set;
  // its sockets are counted in the page, where a retry would construct one synchronously.
  const editorContext = await browser.newContext();
  await editorContext.clock.install();
  await editorContext.addInitScript(() => {
    const NativeWebSocket = window.WebSocket;
    window.__socketsOpened = 0;
    window.WebSocket = class extends NativeWebSocket {
      constructor(...args: ConstructorParameters<typeof NativeWebSocket>) {
        super(...args);
        window.__socketsOpened! += 1;
      }
    };
  });
  const editor = await editorContext.newPage();
  await editor.goto(editUrl);
  await waitForEditor(editor);
  await typeInEditor(editor, 'before rotation');
  await expect.poll(() => editorText(owner)).toBe('before rotation');

  await owner.getByRole('button', { name: 'Replace edit link' }).click();
  await expect(owner.getByTestId('share-panel')).toContainText('New edit link created');
  expect(await owner.getByTestId('edit-link').inputValue()).not.toBe(editUrl);

  await expect(editor.getByTestId('status')).toHaveAttribute('data-status', 'refused');
  await expect(editor.getByTestId('refused')).toContainText('replaced by a new link');
  // A permanent refusal: no reconnection attempt follows. Run the clock past the longest back-off
  // (twice over): any retry timer would have fired and opened a socket by then.
  const socketsAtRefusal = await editor.evaluate(() => window.__socketsOpened!);
  expect(socketsAtRefusal).toBeGreaterThan(0);
  await editor.clock.runFor(2 * MAX_RETRY_MS);
  expect(await editor.evaluate(() => window.__socketsOpened)).toBe(socketsAtRefusal);

  // The refused editor still hands over its copy, made from its replica.
  const [copy] = await Promise.all([editor.waitForEvent('download'), editor.getByRole('button', { name: 'Download your copy' }).click()]);
  expect(copy.suggestedFilename()).toMatch(/\.md$/);
  expect(await fs.readFile(await copy.path(), 'utf8')).toContain('before rotation');

  // Opening the old link again is refused at once.
  const again = await (await browser.newContext()).newPage();
  await again.goto(editUrl);
  await expect(again.getByTestId('status')).toHaveAttribute('data-status', 'refused');
});
