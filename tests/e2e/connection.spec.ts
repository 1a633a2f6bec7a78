import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor } from './support';

test('going offline says so, keeps edits in the tab, and syncs them when back online', async ({ browser, baseURL }) => {
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url);
  await typeInEditor(a, 'online words');
  await expect.poll(() => editorText(b)).toBe('online words');

  await a.context().setOffline(true);
  const status = a.getByTestId('status');
  await expect(status).toHaveAttribute('data-status', 'offline');
  await expect(status).toContainText('Offline');
  await typeInEditor(a, ' written offline');
  expect(await editorText(a)).toBe('online words written offline');
  // Meanwhile the other person keeps working.
  await typeInEditor(b, ' and theirs');

  await a.context().setOffline(false);
  await expect(status).toHaveAttribute('data-status', 'saved');
  await expect(status).toHaveText(/All changes saved/);
  await expect.poll(() => editorText(b)).toContain('written offline');
  await expect.poll(async () => (await editorText(a)) === (await editorText(b))).toBe(true);
  const text = await editorText(a);
  expect(text).toContain('and theirs');
  expect(text).toContain('online words');
});

test('copy link puts the share link on the clipboard and exports download the document', async ({ browser, baseURL }) => {
  const { page } = await createDocument(browser, baseURL!);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL! });
  await page.getByTestId('title').fill('Export me');
  await page.locator('.ProseMirror').click();
  await page.keyboard.type('## Section');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Body text');
  await expect.poll(() => editorText(page)).toBe('Section\nBody text');

  await page.getByTestId('share').click();
  const editUrl = await page.getByTestId('edit-link').inputValue();
  await page.getByRole('button', { name: 'Copy edit link' }).click();
  await expect(page.getByTestId('share-panel')).toContainText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(editUrl);

  const expected = {
    Markdown: ['# Export me', '## Section', 'Body text'],
    Text: ['Export me', 'Section', 'Body text'],
    HTML: ['<h1>Export me</h1>', '<h2>Section</h2>', '<p>Body text</p>'],
  };
  for (const [label, fragments] of Object.entries(expected)) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: label, exact: true }).click()]);
    const file = await download.path();
    const content = fs.readFileSync(file, 'utf8');
    for (const fragment of fragments) expect(content, `${label} export`).toContain(fragment);
    expect(download.suggestedFilename()).toMatch(/^Export me\.(md|txt|html)$/);
  }
});
