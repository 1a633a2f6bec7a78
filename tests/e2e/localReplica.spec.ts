import { expect, test } from '@playwright/test';
import { createDocument, editorText, openAs, typeInEditor } from './support';

test('edits made while the relay is unreachable survive a reload and sync when it is back', async ({ browser, baseURL }) => {
  const { url, page: a } = await createDocument(browser, baseURL!);
  const b = await openAs(browser, url);
  await typeInEditor(a, 'shared start');
  await expect.poll(() => editorText(b)).toBe('shared start');

  // Cut the relay for real: every WebSocket from this person's context is closed at once
  // (context.setOffline does not close open sockets in Chromium).
  let relayCut = true;
  await a.context().routeWebSocket(/\/ws\//, (ws) => {
    if (relayCut) ws.close({ code: 4999, reason: 'cut by test' });
    else ws.connectToServer();
  });
  await a.reload();
  await a.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(a)).toBe('shared start'); // from this device's replica
  await expect(a.getByTestId('status')).not.toHaveAttribute('data-status', 'saved');
  await typeInEditor(a, ' kept locally');
  // Proof the socket is really cut: the other person does not see it.
  await typeInEditor(b, ' meanwhile');
  await expect.poll(() => editorText(b)).toBe('shared start meanwhile');
  expect(await editorText(b)).not.toContain('kept locally');

  // Reload while still cut: the local edit is still there.
  await a.reload();
  await a.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(a)).toContain('kept locally');

  // Restore the relay: both converge to text holding everything.
  // The editor keeps retrying with back-off (at most 5 s apart) and gets through on its own.
  relayCut = false;
  await expect(a.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await expect.poll(async () => (await editorText(a)) === (await editorText(b))).toBe(true);
  const text = await editorText(b);
  expect(text).toContain('kept locally');
  expect(text).toContain('meanwhile');
});
