import { expect, test, type Browser, type Page } from '@playwright/test';
import { editorText, typeInEditor, waitForEditor } from './support';

declare global {
  interface Window {
    /** Set by the history panel's version view (app/_components/editor/history/VersionView.tsx). */
    __concordHistory?: { versionText(): string };
  }
}

/** Distinct presence colours (from lib/client/identity.ts's palette), so highlights can be told apart. */
const ADA = { name: 'Ada', color: '#d1242f', rgb: 'rgb(209, 36, 47)' };
const GRACE = { name: 'Grace', color: '#0969da', rgb: 'rgb(9, 105, 218)' };

/** A person with a fixed name and colour (the identity this browser remembers), opening `url`. */
async function personAt(browser: Browser, url: string, who: { name: string; color: string }): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript((identity) => localStorage.setItem('concord:identity', JSON.stringify(identity)), { name: who.name, color: who.color });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

async function nameVersion(page: Page, name: string): Promise<void> {
  await page.getByTestId('version-name').fill(name);
  await page.getByTestId('save-version').click();
  await expect(page.getByTestId('history-status')).toContainText(`Saved the current content as “${name}”`);
  await expect(page.getByTestId('version-item').first()).toContainText(name);
}

function titleOf(page: Page): Promise<string> {
  return page.evaluate(() => window.__concord!.getTitle());
}

async function setTitle(page: Page, title: string): Promise<void> {
  await page.getByTestId('title').fill(title);
  // Committed on blur (Enter would too, but moves the caret into the body).
  await page.getByTestId('title').blur();
}

function versionText(page: Page): Promise<string | undefined> {
  return page.evaluate(() => window.__concordHistory?.versionText());
}

test('two people edit; one views an older version with the other’s changes in their colour, restores it, and undoes the restore', async ({ browser, baseURL }) => {
  const ada = await personAt(browser, `${baseURL}/`, ADA);
  await ada.getByTestId('new-document').click();
  await ada.waitForURL(/\/d\/[A-Za-z0-9_-]{22}#token=/);
  await waitForEditor(ada);
  const url = ada.url();
  const grace = await personAt(browser, url, GRACE);
  await waitForEditor(grace);

  await typeInEditor(ada, 'Ada opens.');
  await expect.poll(() => editorText(grace)).toBe('Ada opens.');
  await expect(ada.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // Ada names the start; Grace writes; Ada names that too.
  const history = ada.getByTestId('history');
  await history.click();
  await expect(ada.getByTestId('history-panel')).toBeVisible();
  await expect(ada.getByRole('heading', { name: 'Version history' })).toBeFocused();
  await nameVersion(ada, 'Start');
  await typeInEditor(grace, ' Grace adds hers.');
  await setTitle(grace, 'Plan A');
  await expect.poll(() => editorText(ada)).toBe('Ada opens. Grace adds hers.');
  await expect.poll(() => titleOf(ada)).toBe('Plan A');
  await expect(grace.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await nameVersion(ada, 'Draft one');

  // Grace edits more after it.
  await typeInEditor(grace, ' Later words.');
  await setTitle(grace, 'Plan B');
  const newer = 'Ada opens. Grace adds hers. Later words.';
  await expect.poll(() => editorText(ada)).toBe(newer);
  await expect.poll(() => titleOf(ada)).toBe('Plan B');
  await expect(grace.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // The list, newest first: "Draft one" was edited by Grace only.
  await ada.getByRole('button', { name: 'Refresh' }).click();
  const items = ada.getByTestId('version-item');
  await expect(items.nth(0)).toContainText('Draft one');
  await expect(items.nth(0)).toContainText('Grace');
  await expect(items.nth(0)).not.toContainText('Ada');
  await expect(items.nth(1)).toContainText('Start');
  await expect(items.nth(0).locator('time')).toHaveAttribute('title', /\d/);

  // Viewing "Draft one": read-only, Grace's insertion since "Start" in her colour, Ada's text plain.
  await items.nth(0).click();
  await expect(ada.getByTestId('version-view')).toBeVisible();
  await expect.poll(() => versionText(ada)).toBe('Ada opens. Grace adds hers.');
  const content = ada.getByTestId('version-content');
  await expect(content.locator('.ProseMirror')).toHaveAttribute('contenteditable', 'false');
  const highlight = content.locator('ins.history-ins');
  await expect(highlight).toHaveCount(1);
  await expect(highlight).toHaveText(' Grace adds hers.');
  await expect(highlight).toHaveAttribute('data-author-name', GRACE.name);
  await expect(highlight).toHaveAttribute('data-author-color', GRACE.color);
  await expect(highlight).toHaveAttribute('title', `Added by ${GRACE.name}`);
  expect(await highlight.evaluate((el) => getComputedStyle(el).borderBottomColor)).toBe(GRACE.rgb);
  // The tint is the same colour, translucent.
  expect(await highlight.evaluate((el) => getComputedStyle(el).backgroundColor)).toMatch(/^(rgba\(9, 105, 218, 0\.2\)|color\(srgb 0\.0352\d* 0\.4117\d* 0\.8549\d* \/ 0\.2\))$/);
  await expect(ada.getByTestId('version-summary')).toContainText('Grace: 17 characters added');
  await expect(ada.getByTestId('version-summary')).toContainText('Plan A (was Untitled document)');

  // Escape closes the view (focus back on its list entry), a second Escape the panel (focus on History).
  await ada.keyboard.press('Escape');
  await expect(ada.getByTestId('version-view')).toHaveCount(0);
  await expect(items.nth(0)).toBeFocused();
  await ada.keyboard.press('Escape');
  await expect(ada.getByTestId('history-panel')).toHaveCount(0);
  await expect(history).toBeFocused();

  // Ada restores "Draft one": both tabs show it, and "Before restore" keeps what was there.
  await history.click();
  await ada.getByTestId('version-item').filter({ hasText: 'Draft one' }).click();
  await expect.poll(() => versionText(ada)).toBe('Ada opens. Grace adds hers.');
  await ada.getByTestId('restore-version').click();
  await expect(ada.getByTestId('history-status')).toContainText('Restored “Draft one”.');
  await expect(ada.getByTestId('undo-restore')).toBeFocused();
  await expect.poll(() => editorText(ada)).toBe('Ada opens. Grace adds hers.');
  await expect.poll(() => editorText(grace)).toBe('Ada opens. Grace adds hers.');
  await expect.poll(() => titleOf(grace)).toBe('Plan A');
  await expect(ada.getByTestId('version-item').first()).toContainText('Before restore');

  // Undo (in the panel) brings the newer text back in both tabs.
  await ada.getByTestId('undo-restore').click();
  await expect(ada.getByTestId('history-status')).toContainText('Undid the restore of “Draft one”.');
  await expect.poll(() => editorText(ada)).toBe(newer);
  await expect.poll(() => editorText(grace)).toBe(newer);
  await expect.poll(() => titleOf(grace)).toBe('Plan B');

  // Restored again, Ctrl+Z in the editor takes it back too.
  await ada.getByTestId('version-item').filter({ hasText: 'Draft one' }).click();
  await expect.poll(() => versionText(ada)).toBe('Ada opens. Grace adds hers.');
  await ada.getByTestId('restore-version').click();
  await expect.poll(() => editorText(grace)).toBe('Ada opens. Grace adds hers.');
  await ada.locator('.ProseMirror').first().click();
  await ada.keyboard.press('Control+z');
  await expect.poll(() => editorText(ada)).toBe(newer);
  await expect.poll(() => editorText(grace)).toBe(newer);
  await expect.poll(() => titleOf(grace)).toBe('Plan B');
});

test('a view link lists and views versions, with no naming or restoring', async ({ browser, baseURL }) => {
  const owner = await personAt(browser, `${baseURL}/`, ADA);
  await owner.getByTestId('new-document').click();
  await owner.waitForURL(/\/d\/[A-Za-z0-9_-]{22}#token=/);
  await waitForEditor(owner);
  await typeInEditor(owner, 'Seen by a viewer.');
  await expect(owner.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await owner.getByTestId('history').click();
  await nameVersion(owner, 'For viewers');
  await owner.getByTestId('close-history').click();
  await owner.getByTestId('share').click();
  const viewUrl = await owner.getByTestId('view-link').inputValue();

  const viewer = await personAt(browser, viewUrl, GRACE);
  await waitForEditor(viewer);
  await viewer.getByTestId('history').click();
  await expect(viewer.getByTestId('version-item').first()).toContainText('For viewers');
  await expect(viewer.getByTestId('version-name')).toHaveCount(0);
  await viewer.getByTestId('version-item').first().click();
  await expect.poll(() => versionText(viewer)).toBe('Seen by a viewer.');
  await expect(viewer.getByTestId('version-content').locator('ins.history-ins')).toHaveAttribute('data-author-color', ADA.color);
  await expect(viewer.getByTestId('restore-version')).toHaveCount(0);
});

test('a word the other person deleted is struck through in their colour', async ({ browser, baseURL }) => {
  const ada = await personAt(browser, `${baseURL}/`, ADA);
  await ada.getByTestId('new-document').click();
  await ada.waitForURL(/\/d\/[A-Za-z0-9_-]{22}#token=/);
  await waitForEditor(ada);
  const grace = await personAt(browser, ada.url(), GRACE);
  await waitForEditor(grace);
  await typeInEditor(ada, 'Keep these words');
  await expect.poll(() => editorText(grace)).toBe('Keep these words');
  await expect(ada.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await ada.getByTestId('history').click();
  await nameVersion(ada, 'Before the cut');

  // Grace deletes "words"; then a version is named, which carries who deleted what since the last one.
  await grace.locator('.ProseMirror').click();
  await grace.keyboard.press('End');
  await grace.keyboard.press('Control+Backspace');
  await expect.poll(() => editorText(ada)).toBe('Keep these ');
  await expect(grace.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await nameVersion(ada, 'After the cut');
  await ada.getByTestId('version-item').first().click();
  await expect.poll(() => versionText(ada)).toBe('Keep these ');

  const struck = ada.getByTestId('version-content').locator('del.history-del');
  await expect(struck).toHaveCount(1);
  await expect(struck).toHaveText('Deleted by Grace: words');
  await expect(struck).toHaveAttribute('data-deleter-name', GRACE.name);
  await expect(struck).toHaveAttribute('data-deleter-color', GRACE.color);
  await expect(struck).toHaveAttribute('title', `Deleted by ${GRACE.name}`);
  expect(await struck.evaluate((el) => getComputedStyle(el).textDecorationColor)).toBe(GRACE.rgb);
  expect(await struck.evaluate((el) => getComputedStyle(el).color)).toBe(GRACE.rgb);
  await expect(ada.getByTestId('version-summary')).toContainText('Grace: 5 characters deleted');
});
