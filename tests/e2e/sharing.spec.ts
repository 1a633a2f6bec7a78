import { expect, test } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor } from './support';

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
  const editor = await openAs(browser, editUrl);
  await typeInEditor(editor, 'before rotation');
  await expect.poll(() => editorText(owner)).toBe('before rotation');

  let sockets = 0;
  editor.on('websocket', () => sockets++);
  await owner.getByRole('button', { name: 'Replace edit link' }).click();
  await expect(owner.getByTestId('share-panel')).toContainText('New edit link created');
  expect(await owner.getByTestId('edit-link').inputValue()).not.toBe(editUrl);

  await expect(editor.getByTestId('status')).toHaveAttribute('data-status', 'refused');
  await expect(editor.getByTestId('refused')).toContainText('replaced by a new link');
  await expect(editor.getByRole('button', { name: 'Download your copy' })).toBeVisible();
  // A permanent refusal: no reconnection attempts follow.
  await editor.waitForTimeout(3000);
  expect(sockets).toBe(0);

  // Opening the old link again is refused at once.
  const again = await (await browser.newContext()).newPage();
  await again.goto(editUrl);
  await expect(again.getByTestId('status')).toHaveAttribute('data-status', 'refused');
});
