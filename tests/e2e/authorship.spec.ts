/**
 * Authorship (issue #16, item 5): the "Authorship" toggle colours each person's text and names
 * them on hover; "See new changes" highlights what others wrote since this browser last looked —
 * after closing the tab, and after being offline — until dismissed.
 */
import { expect, test, type Page } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor, waitForEditor } from './support';

interface ShownRun {
  kind: 'author' | 'new';
  name: string;
  color: string;
  text: string;
}

/** The authorship decorations shown, with their text, read from the editor state. */
function shownRuns(page: Page): Promise<ShownRun[]> {
  return page.evaluate(() => (window.__concord as unknown as { authorship(): ShownRun[] }).authorship());
}

/** This person's colour, as their browser remembers it. */
function colourOf(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(localStorage.getItem('concord:identity')!) as { color: string }).color);
}

/** A translucent background of `hex`, as the browser computes it. */
function tintOf(hex: string): RegExp {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return new RegExp(`^rgba\\(${r}, ${g}, ${b}, 0\\.\\d+\\)$`);
}

async function setName(page: Page, name: string): Promise<void> {
  await page.getByTestId('user-name').fill(name);
  await page.getByTestId('user-name').press('Enter');
}

test('the authorship toggle colours each person’s text; reopening shows what the other wrote meanwhile', async ({ browser, baseURL }) => {
  const { url, page: ada } = await createDocument(browser, baseURL!);
  await setName(ada, 'Ada');
  const bo = await openAs(browser, url, 'Bo');
  await typeInEditor(ada, 'ada wrote this.');
  await expect.poll(() => editorText(bo)).toBe('ada wrote this.');
  await typeInEditor(bo, ' bo wrote that.');
  await expect.poll(() => editorText(ada)).toBe('ada wrote this. bo wrote that.');
  const [adaColour, boColour] = [await colourOf(ada), await colourOf(bo)];

  const toggle = ada.getByRole('button', { name: 'Authorship' });
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect
    .poll(() => shownRuns(ada))
    .toEqual([
      { kind: 'author', name: 'Ada', color: adaColour, text: 'ada wrote this.' },
      { kind: 'author', name: 'Bo', color: boColour, text: ' bo wrote that.' },
    ]);
  // Tinted in the author's colour, named on hover.
  await expect(ada.locator('.ProseMirror .author-run[title="Bo"]')).toHaveCSS('background-color', tintOf(boColour));
  await expect(ada.locator('.ProseMirror .author-run[title="Ada"]')).toHaveCSS('background-color', tintOf(adaColour));
  // Text arriving while the toggle is on is coloured as it comes.
  await typeInEditor(bo, ' more');
  await expect.poll(async () => (await shownRuns(ada)).at(-1)).toEqual({ kind: 'author', name: 'Bo', color: boColour, text: ' bo wrote that. more' });
  // A first visit has nothing new to show.
  await expect(ada.getByTestId('new-changes')).toHaveCount(0);
  await toggle.click();
  await expect.poll(() => shownRuns(ada)).toEqual([]);

  // Ada closes her tab; Bo keeps writing.
  const adaContext = ada.context();
  await ada.close();
  await typeInEditor(bo, ' Then bo added this.');
  await expect(bo.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // Ada comes back: Bo's new text is highlighted in his colour, and the bar names him.
  const back = await adaContext.newPage();
  await back.goto(url);
  await waitForEditor(back);
  await expect.poll(() => editorText(back)).toBe('ada wrote this. bo wrote that. more Then bo added this.');
  const bar = back.getByTestId('new-changes');
  await expect(bar).toContainText('1 change by Bo since you last looked');
  await expect.poll(() => shownRuns(back)).toEqual([{ kind: 'new', name: 'Bo', color: boColour, text: ' Then bo added this.' }]);
  await expect(back.locator('.ProseMirror .new-change')).toHaveCSS('background-color', tintOf(boColour));

  // Dismiss clears the highlight, and it stays cleared after a reload.
  await bar.getByRole('button', { name: 'Dismiss' }).click();
  await expect(bar).toHaveCount(0);
  await expect.poll(() => shownRuns(back)).toEqual([]);
  await back.reload();
  await waitForEditor(back);
  await expect.poll(() => editorText(back)).toBe('ada wrote this. bo wrote that. more Then bo added this.');
  await expect(back.getByTestId('new-changes')).toHaveCount(0);
  await expect.poll(() => shownRuns(back)).toEqual([]);

  // The reopened tab writes as a new Yjs client (the local replica keeps content, not the client
  // ID): it records its author too, so Bo sees Ada's new text as hers.
  await typeInEditor(back, ' ada again.');
  await bo.getByRole('button', { name: 'Authorship' }).click();
  await expect
    .poll(() => shownRuns(bo))
    .toEqual([
      { kind: 'author', name: 'Ada', color: adaColour, text: 'ada wrote this.' },
      { kind: 'author', name: 'Bo', color: boColour, text: ' bo wrote that. more Then bo added this.' },
      { kind: 'author', name: 'Ada', color: adaColour, text: ' ada again.' },
    ]);
});

test('what merged in while a tab was offline is highlighted once it is back', async ({ browser, baseURL }) => {
  const { url, page: ada } = await createDocument(browser, baseURL!);
  await setName(ada, 'Ada');
  const bo = await openAs(browser, url, 'Bo');
  await typeInEditor(ada, 'shared start');
  await expect.poll(() => editorText(bo)).toBe('shared start');

  // Cut Ada from the relay: every socket of her context is closed, and the browser is offline.
  let relayCut = true;
  await ada.context().routeWebSocket(/\/ws\//, (ws) => {
    if (relayCut) ws.close({ code: 4999, reason: 'cut by test' });
    else ws.connectToServer();
  });
  await ada.context().setOffline(true);
  await expect(ada.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await typeInEditor(bo, ' bo meanwhile');
  await expect(bo.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await typeInEditor(ada, ' ada offline');
  expect(await editorText(ada)).toBe('shared start ada offline');

  relayCut = false;
  await ada.context().setOffline(false);
  await expect(ada.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await expect.poll(async () => (await editorText(ada)) === (await editorText(bo))).toBe(true);
  // Bo's text came in with the merge: new. Ada's own offline text is not.
  await expect(ada.getByTestId('new-changes')).toContainText('1 change by Bo since you last looked');
  await expect.poll(() => shownRuns(ada)).toEqual([{ kind: 'new', name: 'Bo', color: await colourOf(bo), text: ' bo meanwhile' }]);

  // Text Bo writes now, seen live, is not highlighted.
  await typeInEditor(bo, ' live');
  await expect.poll(() => editorText(ada)).toContain(' live');
  await expect.poll(() => shownRuns(ada)).toEqual([{ kind: 'new', name: 'Bo', color: await colourOf(bo), text: ' bo meanwhile' }]);
  await ada.getByTestId('new-changes').getByRole('button', { name: 'Dismiss' }).click();
  await expect.poll(() => shownRuns(ada)).toEqual([]);
});
