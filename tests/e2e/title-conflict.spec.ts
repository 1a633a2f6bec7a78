/**
 * Concurrent title replacements (issue #16, item 6): two people offline each replace the title;
 * back online, both see one title and the other offered beside it ("2 titles were set at once"),
 * a viewer sees the conflict without buttons, one person picks by keyboard, and everyone sees
 * the pick, with no conflict, and a named version records it.
 */
import { expect, test, type Page } from '@playwright/test';
import { createDocument, openAs } from './support';

/** Cuts this page's context from the relay for real (see offline.spec.ts); returns the way back. */
async function goOffline(page: Page): Promise<() => Promise<void>> {
  let cut = true;
  await page.context().routeWebSocket(/\/ws\//, (ws) => {
    if (cut) ws.close({ code: 4999, reason: 'cut by test' });
    else ws.connectToServer();
  });
  await page.context().setOffline(true);
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  return async () => {
    cut = false;
    await page.context().setOffline(false);
  };
}

async function replaceTitle(page: Page, value: string): Promise<void> {
  await page.getByTestId('title').fill(value);
  // Enter commits the replacement at once (otherwise: when typing stops, or on leaving the field).
  await page.getByTestId('title').press('Enter');
}

test('two people replacing the title offline see the conflict when back; one pick resolves it for everyone', async ({ browser, baseURL, request }) => {
  // Three people's pages, two of them going offline and back: slower than one page's budget.
  test.setTimeout(120_000);
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url, 'Bea');
  await a.getByTestId('share').click();
  const viewer = await openAs(browser, await a.getByTestId('view-link').inputValue());
  await replaceTitle(a, 'Plan');
  for (const page of [b, viewer]) await expect(page.getByTestId('title')).toHaveValue('Plan');

  const backA = await goOffline(a);
  const backB = await goOffline(b);
  await replaceTitle(a, 'Plan from A');
  await replaceTitle(b, 'Plan from B');
  // Alone, each sees only their own replacement.
  await expect(a.getByTestId('title')).toHaveValue('Plan from A');
  await expect(b.getByTestId('title')).toHaveValue('Plan from B');
  await expect(a.getByTestId('title-conflict')).toHaveCount(0);
  await expect(viewer.getByTestId('title')).toHaveValue('Plan');

  await backA();
  await backB();
  for (const page of [a, b]) await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  // Everyone shows the same candidate, and the other beside it.
  for (const page of [a, b, viewer]) {
    await expect(page.getByTestId('title-conflict')).toContainText('2 titles were set at once:');
    await expect(page.getByTestId('title-candidate')).toHaveCount(1);
  }
  const shown = await a.getByTestId('title').inputValue();
  expect(['Plan from A', 'Plan from B']).toContain(shown);
  const other = shown === 'Plan from A' ? 'Plan from B' : 'Plan from A';
  for (const page of [a, b, viewer]) {
    await expect(page.getByTestId('title')).toHaveValue(shown);
    await expect(page.getByTestId('title-candidate')).toHaveText(other);
  }
  // A view link sees the conflict but has nothing to pick with.
  await expect(viewer.getByRole('button', { name: /Use the title/ })).toHaveCount(0);
  await expect(viewer.getByTestId('title-keep')).toHaveCount(0);

  // B picks the other one, by keyboard.
  const use = b.getByRole('button', { name: new RegExp(`^Use the title “${other}”`) });
  await use.focus();
  await b.keyboard.press('Enter');

  for (const page of [a, b, viewer]) {
    await expect(page.getByTestId('title')).toHaveValue(other);
    await expect(page.getByTestId('title-conflict')).toHaveCount(0);
  }
  await expect(a).toHaveTitle(`${other} — Concord`);

  // The pick is in history, as a named version holding it.
  const docId = new URL(url).pathname.split('/')[2]!;
  const token = new URL(url).hash.replace(/^#token=/, '');
  await expect
    .poll(async () => {
      const res = await request.get(`${baseURL}/api/docs/${docId}/versions`, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok()) return `HTTP ${res.status()}`;
      const { versions } = (await res.json()) as { versions: { kind: string; name: string | null }[] };
      return versions.filter((v) => v.kind === 'named').map((v) => v.name);
    })
    .toEqual([`Title chosen: “${other}”`]);
});
