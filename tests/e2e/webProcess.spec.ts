/**
 * In production the web app runs in a process of its own (server/webAppProcess.ts), so the
 * relay's process stays small. Killing the web app's process must cost the people editing
 * nothing: their WebSockets belong to the relay and stay open, their edits keep saving, and the
 * pages come back once the server has started the web app again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { editorText, openAs, typeInEditor } from './support';
import { startServerProcess, type ServerProcess } from './serverProcess';

const PORT = Number(process.env.E2E_PORT ?? 3107) + 3;
let server: ServerProcess | null = null;
let dataDir = '';

interface Health {
  web?: { state: 'up' | 'restarting'; pid: number | null; restarts: number };
}

test.beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-web-'));
});
test.afterEach(async () => {
  await server?.stop('SIGKILL');
  server = null;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the web app\'s process dies: open editors keep their connection and keep saving, and pages come back', async ({ browser }) => {
  test.setTimeout(120_000);
  server = await startServerProcess(PORT, dataDir);
  const health = async () => (await (await fetch(`${server!.url}/healthz`)).json()) as Health;
  const first = (await health()).web;
  expect(first).toMatchObject({ state: 'up', restarts: 0 });
  expect(first?.pid).toEqual(expect.any(Number));

  const created = (await (await fetch(`${server.url}/api/docs`, { method: 'POST' })).json()) as { editUrl: string };
  const a = await openAs(browser, created.editUrl, 'Ada');
  const b = await openAs(browser, created.editUrl, 'Bo');
  const closedSockets: string[] = [];
  for (const page of [a, b]) page.on('websocket', (ws) => ws.on('close', () => closedSockets.push(ws.url())));
  await typeInEditor(a, 'before ');
  await expect.poll(() => editorText(b)).toBe('before ');

  process.kill(first!.pid!, 'SIGKILL');
  await expect.poll(async () => (await health()).web?.state).toBe('restarting');
  // Pages say so meanwhile; the relay does not notice.
  expect((await fetch(`${server.url}/`)).status).toBe(503);
  await typeInEditor(a, 'during ');
  await expect.poll(() => editorText(b)).toBe('before during ');
  await expect(a.getByTestId('status')).toHaveAttribute('data-status', 'saved');

  await expect.poll(async () => (await health()).web, { timeout: 60_000 }).toMatchObject({ state: 'up', restarts: 1 });
  expect((await health()).web?.pid).not.toBe(first!.pid);
  const newcomer = await openAs(browser, created.editUrl, 'Cy');
  await expect.poll(() => editorText(newcomer)).toBe('before during ');
  expect(closedSockets).toEqual([]);
});
