/** Helpers for driving the editor like a person, one browser context per simulated person. */
import { expect, type Browser, type Page } from '@playwright/test';

declare global {
  interface Window {
    __concord?: { ready: boolean; docId: string; getText(): string; getTitle(): string; unsavedEdits(): number };
  }
}

/** A new person (context) opening `url`, with a name of their own. */
export async function openAs(browser: Browser, url: string, name?: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await waitForEditor(page);
  if (name) {
    const field = page.getByTestId('user-name');
    await field.fill(name);
    await field.press('Enter');
  }
  return page;
}

/** Creates a document from the landing page; returns its owner URL and the page showing it. */
export async function createDocument(browser: Browser, baseURL: string): Promise<{ page: Page; url: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${baseURL}/`);
  await page.getByTestId('new-document').click();
  await page.waitForURL(/\/d\/[A-Za-z0-9_-]{22}#token=/);
  await waitForEditor(page);
  return { page, url: page.url() };
}

export async function waitForEditor(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__concord?.ready === true);
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
}

/** The document body as text, read from the editor state (the DOM also holds cursor labels). */
export function editorText(page: Page): Promise<string> {
  return page.evaluate(() => window.__concord!.getText());
}

export async function typeInEditor(page: Page, text: string, delay = 15): Promise<void> {
  await page.locator('.ProseMirror').click();
  await page.keyboard.press('End');
  await page.keyboard.type(text, { delay });
}
