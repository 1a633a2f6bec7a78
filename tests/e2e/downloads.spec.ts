/**
 * The share panel's downloads are made in the browser from this tab's replica (issue #11,
 * item 3): each yields a file holding the document, no request of the page carries the
 * capability in its URL, and they work with the relay and the network gone.
 */
import fs from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { createDocument, typeInEditor } from './support';

const FORMATS = [
  { label: 'Markdown', extension: '.md' },
  { label: 'Text', extension: '.txt' },
  { label: 'HTML', extension: '.html' },
] as const;

/** Clicks a download in the share panel; returns the saved file's name, URL and contents. */
async function download(page: Page, label: string): Promise<{ name: string; url: string; body: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('share-panel').getByText(label, { exact: true }).click(),
  ]);
  const path = await file.path();
  return { name: file.suggestedFilename(), url: file.url(), body: await fs.readFile(path, 'utf8') };
}

test('each download holds the document and no request carries the token', async ({ browser, baseURL }) => {
  const { page } = await createDocument(browser, baseURL!);
  const urls: string[] = [];
  // Context-wide, so requests of the service worker count too.
  page.context().on('request', (request) => urls.push(request.url()));
  await page.getByTestId('title').fill('Minutes');
  await typeInEditor(page, 'downloaded from the replica');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await page.getByTestId('share').click();

  for (const { label, extension } of FORMATS) {
    const file = await download(page, label);
    expect(file.name).toBe(`Minutes${extension}`);
    expect(file.body).toContain('downloaded from the replica');
    expect(file.body).toContain('Minutes');
    expect(file.url).toMatch(/^blob:/);
  }
  expect(urls.length).toBeGreaterThan(0); // the recorder saw the page's own requests
  expect(urls.filter((url) => /[?&#]token=/.test(url))).toEqual([]);
});

test('downloads work with the relay and the network gone, unsaved edits included', async ({ browser, baseURL }) => {
  const { page } = await createDocument(browser, baseURL!);
  await typeInEditor(page, 'stored first');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // No relay and no network: every new socket is closed at once, open ones are dropped by the app.
  await page.context().routeWebSocket(/\/ws\//, (ws) => ws.close({ code: 4999, reason: 'cut by test' }));
  await page.context().setOffline(true);
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await typeInEditor(page, ', then offline');
  await expect(page.getByTestId('status')).toHaveText(/not yet saved/);

  await page.getByTestId('share').click();
  for (const { label } of FORMATS) {
    const file = await download(page, label);
    expect(file.body).toContain('stored first, then offline');
  }
});
