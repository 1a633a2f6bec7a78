import { expect, test } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor } from './support';

test('two people type at once, see each other, and everything survives reloads and late joiners', async ({ browser, baseURL }) => {
  const { url, page: owner } = await createDocument(browser, baseURL!);
  await owner.getByTestId('user-name').fill('Ada');
  await owner.getByTestId('user-name').press('Enter');
  const guest = await openAs(browser, url, 'Grace');

  // Both type at the same time, each on a line of their own.
  await owner.locator('.ProseMirror').click();
  await owner.keyboard.type('ada-line ');
  await owner.keyboard.press('Enter');
  await expect.poll(() => editorText(guest)).toContain('ada-line');
  await Promise.all([
    typeInEditor(owner, ' alpha bravo charlie', 20),
    (async () => {
      await guest.locator('.ProseMirror p').first().click();
      await guest.keyboard.press('Home');
      await guest.keyboard.type('grace delta echo ', { delay: 20 });
    })(),
  ]);

  await expect.poll(async () => (await editorText(owner)) === (await editorText(guest))).toBe(true);
  const text = await editorText(owner);
  for (const word of ['alpha', 'bravo', 'charlie', 'grace', 'delta', 'echo', 'ada-line']) expect(text).toContain(word);

  // Each sees the other's named cursor.
  await expect(guest.locator('.ProseMirror-yjs-cursor', { hasText: 'Ada' })).toBeVisible();
  await expect(owner.locator('.ProseMirror-yjs-cursor', { hasText: 'Grace' })).toBeVisible();
  await expect(owner.getByTestId('presence')).toContainText('Grace');

  // Reload keeps everything.
  await guest.reload();
  await guest.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(guest)).toBe(text);

  // A third person joining late sees everything.
  const late = await openAs(browser, url, 'Linus');
  await expect.poll(() => editorText(late)).toBe(text);
  await expect(owner.getByTestId('presence')).toContainText('Linus');

  // Someone who leaves disappears from the others' presence, and their cursor with them.
  await late.locator('.ProseMirror').click();
  await expect(owner.locator('.ProseMirror-yjs-cursor', { hasText: 'Linus' })).toBeVisible();
  await late.context().close();
  await expect(owner.getByTestId('presence')).not.toContainText('Linus', { timeout: 10_000 });
  await expect(owner.locator('.ProseMirror-yjs-cursor', { hasText: 'Linus' })).toHaveCount(0);
});

test('the title is shared and shown in the page title', async ({ browser, baseURL }) => {
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url);
  await expect(a).toHaveTitle('Untitled document — Concord');
  await a.getByTestId('title').fill('Quarterly plan');
  await expect(b.getByTestId('title')).toHaveValue('Quarterly plan');
  await expect(b).toHaveTitle('Quarterly plan — Concord');
  await b.getByTestId('title').press('End');
  await b.keyboard.type(' v2');
  await expect(a.getByTestId('title')).toHaveValue('Quarterly plan v2');
  await expect(a).toHaveTitle('Quarterly plan v2 — Concord');

  // A collaborator's edit does not move your caret: b keeps typing where b was.
  await b.getByTestId('title').press('Home');
  await a.getByTestId('title').press('End');
  await a.keyboard.type(' final');
  await expect(b.getByTestId('title')).toHaveValue('Quarterly plan v2 final');
  await b.keyboard.type('Our ');
  await expect(a.getByTestId('title')).toHaveValue('Our Quarterly plan v2 final');
  await expect(b.getByTestId('title')).toHaveValue('Our Quarterly plan v2 final');

  // Text a collaborator inserts before your caret shifts it along, so you keep typing at the end.
  await b.getByTestId('title').press('End');
  await a.getByTestId('title').press('Home');
  await a.keyboard.type('Draft: ');
  await expect(b.getByTestId('title')).toHaveValue('Draft: Our Quarterly plan v2 final');
  await b.keyboard.type('!');
  await expect(a.getByTestId('title')).toHaveValue('Draft: Our Quarterly plan v2 final!');
});

test('formatting from the toolbar, shortcuts and Markdown input rules reaches the other person', async ({ browser, baseURL }) => {
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url);
  await a.locator('.ProseMirror').click();
  await a.keyboard.type('# Heading here');
  await a.keyboard.press('Enter');
  await a.keyboard.type('- first item');
  await a.keyboard.press('Enter');
  await a.keyboard.type('second item');
  await a.keyboard.press('Enter');
  await a.keyboard.press('Enter');
  await a.keyboard.press('ControlOrMeta+b');
  await a.keyboard.type('bold words');
  await expect(b.locator('.ProseMirror h1')).toContainText('Heading here');
  await expect(b.locator('.ProseMirror ul li')).toHaveCount(2);
  await expect(b.locator('.ProseMirror strong')).toContainText('bold words');
  await a.getByRole('button', { name: 'Heading 2' }).click();
  await expect(b.locator('.ProseMirror h2')).toContainText('bold words');
  await expect.poll(() => editorText(b)).toBe('Heading here\nfirst item\nsecond item\nbold words');
});

test('undo only undoes your own changes', async ({ browser, baseURL }) => {
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url);
  await typeInEditor(a, 'mine');
  await expect.poll(() => editorText(b)).toBe('mine');
  await typeInEditor(b, ' theirs');
  await expect.poll(() => editorText(a)).toBe('mine theirs');
  await a.keyboard.press('ControlOrMeta+z');
  await expect.poll(() => editorText(a)).toBe(' theirs');
  await expect.poll(() => editorText(b)).toBe(' theirs');
});

test('the landing page creates documents and lists the ones opened here', async ({ browser, baseURL }) => {
  const { page } = await createDocument(browser, baseURL!);
  expect(page.url()).toMatch(/\/d\/[A-Za-z0-9_-]{22}#token=[A-Za-z0-9_-]{43}$/);
  await page.getByTestId('title').fill('Listed document');
  await page.goBack();
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByTestId('recent-list')).toContainText('Listed document');
  await page.getByRole('link', { name: 'Listed document' }).click();
  await page.waitForFunction(() => window.__concord?.ready === true);
  await expect(page.getByTestId('title')).toHaveValue('Listed document');
});

test('a malformed document link gets a clear 400 page', async ({ page, baseURL }) => {
  const response = await page.goto(`${baseURL}/d/not-valid`);
  expect(response?.status()).toBe(400);
  await expect(page.getByTestId('error-page')).toContainText('This link does not point to a document');
});
