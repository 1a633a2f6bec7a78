/**
 * The server dies while two people keep typing; it starts again on the same port. Both tabs
 * reconnect on their own, converge, reach "saved", and a newcomer sees every word from both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { editorText, openAs, typeInEditor } from './support';
import { startServerProcess, type ServerProcess } from './serverProcess';

const PORT = Number(process.env.E2E_PORT ?? 3107) + 1;
let server: ServerProcess | null = null;
let dataDir = '';

test.beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-restart-'));
});
test.afterEach(async () => {
  await server?.stop('SIGKILL');
  server = null;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('both tabs keep typing through a server crash and converge, saved, after it restarts', async ({ browser }) => {
  test.setTimeout(120_000);
  server = await startServerProcess(PORT, dataDir);
  const created = (await (await fetch(`${server.url}/api/docs`, { method: 'POST' })).json()) as { editUrl: string };
  const a = await openAs(browser, created.editUrl, 'Ada');
  const b = await openAs(browser, created.editUrl, 'Bo');
  await typeInEditor(a, 'alpha ');
  await expect.poll(() => editorText(b)).toBe('alpha ');

  // Crash: no chance to flush anything that was not already stored.
  await server.stop('SIGKILL');
  server = null;
  for (const page of [a, b]) await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await typeInEditor(a, 'bravo ');
  await typeInEditor(b, 'charlie ');
  for (const page of [a, b]) await expect(page.getByTestId('status')).toHaveText(/Can’t reach the server — \d+ edits? kept on this device, not yet saved/);

  server = await startServerProcess(PORT, dataDir);
  for (const page of [a, b]) await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved', { timeout: 30_000 });
  await expect.poll(async () => (await editorText(a)) === (await editorText(b))).toBe(true);
  for (const word of ['alpha', 'bravo', 'charlie']) expect(await editorText(a)).toContain(word);

  // Everything is stored on the server: a newcomer with no local state sees every word, even
  // after one more crash with both tabs gone.
  await a.context().close();
  await b.context().close();
  await server.stop('SIGKILL');
  server = await startServerProcess(PORT, dataDir);
  const newcomer = await openAs(browser, created.editUrl.replace(/^http:\/\/[^/]+/, server.url));
  const text = await editorText(newcomer);
  for (const word of ['alpha', 'bravo', 'charlie']) expect(text).toContain(word);
});
