/**
 * Client failover between regions (issue #12 item 6): three regions as separate web+relay
 * processes. A tab whose page came from region A keeps typing while A is SIGKILLed; it fails over
 * to B (the badge says so) and keeps typing; a tab on C sees every word. A restarts on its data
 * directory, has it all, and the first tab goes back to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { editorText, openAs } from './support';
import { freePort, startServerProcess, type ServerProcess } from './serverProcess';

const SECRET = 'a-cluster-secret-of-at-least-32-characters';
const NAMES = ['a', 'b', 'c'] as const;
type Name = (typeof NAMES)[number];

const servers = new Map<Name, ServerProcess>();
const dataDirs = new Map<Name, string>();
const ports = new Map<Name, number>();

const baseUrl = (name: Name) => `http://127.0.0.1:${ports.get(name)!}`;

function regionEnv(name: Name): Record<string, string> {
  return {
    REGION: name,
    PEERS: NAMES.filter((n) => n !== name).map(baseUrl).join(','),
    CLUSTER_SECRET: SECRET,
    REGION_PUBLIC_URL: baseUrl(name),
  };
}

async function start(name: Name): Promise<void> {
  servers.set(name, await startServerProcess(ports.get(name)!, dataDirs.get(name)!, regionEnv(name)));
}

/** Every peer of `name` is linked (until then its /api/regions may not list their URLs). */
async function linked(name: Name): Promise<boolean> {
  const health = (await (await fetch(`${baseUrl(name)}/healthz`)).json()) as { peers?: { state: string }[] };
  return health.peers?.length === NAMES.length - 1 && health.peers.every((p) => p.state === 'up');
}

/** The peers `name` lists at /api/regions, in its order. */
async function peerNames(name: Name): Promise<string[]> {
  const answer = (await (await fetch(`${baseUrl(name)}/api/regions`)).json()) as { regions: { name: string }[] };
  return answer.regions.slice(1).map((r) => r.name);
}

/** Types each word and a space at the end of the document, calling `typed(i)` after word i. */
async function typeWords(page: Page, words: string[], typed: (i: number) => Promise<void> = async () => {}): Promise<void> {
  for (let i = 0; i < words.length; i++) {
    await page.keyboard.type(`${words[i]} `, { delay: 10 });
    await typed(i);
  }
}

const region = (page: Page) => page.getByTestId('status-region');

test.beforeEach(async () => {
  for (const name of NAMES) {
    ports.set(name, await freePort());
    dataDirs.set(name, fs.mkdtempSync(path.join(os.tmpdir(), `concord-e2e-region-${name}-`)));
  }
});

test.afterEach(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop('SIGKILL')));
  servers.clear();
  for (const dir of dataDirs.values()) fs.rmSync(dir, { recursive: true, force: true });
  dataDirs.clear();
});

test('a tab on A keeps typing through A’s SIGKILL: it fails over to B, a tab on C sees every word, A comes back with it all', async ({ browser }) => {
  test.setTimeout(90_000);
  // A first: if the web build is stale, one process rebuilds it, not three at once. A lists its
  // peers in the order their links came up, and the editor tries them in A's order: B before C.
  await start('a');
  await start('b');
  await expect.poll(() => peerNames('a'), { timeout: 20_000 }).toEqual(['b']);
  await start('c');
  for (const name of NAMES) await expect.poll(() => linked(name), { timeout: 20_000 }).toBe(true);
  expect(await peerNames('a')).toEqual(['b', 'c']);

  const created = (await (await fetch(`${baseUrl('a')}/api/docs`, { method: 'POST' })).json()) as { id: string; editUrl: string };
  const link = new URL(created.editUrl);
  const token = new URLSearchParams(link.hash.slice(1)).get('token')!;
  const writer = await openAs(browser, `${baseUrl('a')}${link.pathname}${link.hash}`, 'Ada');
  const reader = await openAs(browser, `${baseUrl('c')}${link.pathname}${link.hash}`, 'Cy');
  await expect(region(writer)).toHaveAttribute('data-region', 'a');
  await expect(region(reader)).toHaveAttribute('data-region', 'c');

  const words = Array.from({ length: 45 }, (_, i) => `w${i}`);
  await writer.locator('.ProseMirror').click();
  await writer.keyboard.press('Control+End');
  // A dies mid-typing, with no chance to store or forward what it had not yet.
  await typeWords(writer, words.slice(0, 30), async (i) => {
    if (i === 9) await servers.get('a')!.stop('SIGKILL');
  });
  await expect(region(writer)).toHaveAttribute('data-region', 'b');
  // Still typing, now on B.
  await typeWords(writer, words.slice(30));
  const expected = `${words.join(' ')} `;
  expect(await editorText(writer)).toBe(expected);
  await expect(writer.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await expect.poll(() => editorText(reader), { timeout: 20_000 }).toBe(expected);

  // A comes back on its data directory: its peers catch it up, and the writer goes home.
  await start('a');
  await expect(region(writer)).toHaveAttribute('data-region', 'a', { timeout: 30_000 });
  await expect(writer.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  const exported = async () => {
    const res = await fetch(`${baseUrl('a')}/api/docs/${created.id}/export?format=txt`, { headers: { Authorization: `Bearer ${token}` } });
    return (await res.text()).trimEnd();
  };
  await expect.poll(exported, { timeout: 20_000 }).toBe(expected.trimEnd());
});
