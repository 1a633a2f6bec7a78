/**
 * The offline cache does not grow with every deploy (issue #11): a browser that used one build
 * and then opens the next holds only the next build's files, and still opens documents offline.
 * The "deploy" is real: a second `next build` of a copy of the project with a changed source,
 * served on the same origin after the first build's server stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { startServerProcess, type ServerProcess } from './serverProcess';
import { editorText, typeInEditor, waitForEditor } from './support';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PORT = Number(process.env.E2E_PORT ?? 3107) + 2;
/** What `next build` and `npm start` read; server/ to run the copy's own server. */
const PROJECT_FILES = ['app', 'lib', 'public', 'server', 'next.config.js', 'package.json', 'tsconfig.json'];
const DOCUMENT_PAGE = '/__concord/document-page';
const START_TIMEOUT_MS = 60_000;

type CacheContents = Record<string, string[]>;

/** Every cache of this origin and the paths it holds, read in the page. */
function cacheContents(page: Page): Promise<CacheContents> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      const requests = await (await caches.open(name)).keys();
      out[name] = requests.map((request) => {
        const url = new URL(request.url);
        return url.pathname + url.search;
      });
    }
    return out;
  });
}

const staticFiles = (paths: string[]) => paths.filter((p) => p.startsWith('/_next/static/'));

/**
 * A copy of the project with a changed stylesheet, built by `next build` into its own .next.
 * node_modules is a link to ours, which Turbopack accepts only inside its root, hence root '/';
 * the type check is skipped (the same sources were checked by the first build).
 */
function buildChangedCopy(dir: string): { done: Promise<{ ok: boolean; output: string }>; child: ChildProcess } {
  for (const entry of PROJECT_FILES) fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.renameSync(path.join(dir, 'next.config.js'), path.join(dir, 'next.config.base.js'));
  fs.writeFileSync(
    path.join(dir, 'next.config.js'),
    `import base from './next.config.base.js';
export default async (phase, context) => {
  const config = typeof base === 'function' ? await base(phase, context) : base;
  return { ...config, turbopack: { ...config.turbopack, root: '/' }, typescript: { ...config.typescript, ignoreBuildErrors: true } };
};
`,
  );
  fs.appendFileSync(path.join(dir, 'app', 'globals.css'), '\n.concord-second-build { color: inherit; }\n');
  // Its own build ID: not one this process may have inherited.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' };
  delete env.CONCORD_BUILD_ID;
  const build = spawn(process.execPath, [path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  build.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  build.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Resolves either way, so a build that fails while the first part of the test runs is reported
  // where the test waits for it, not as an unhandled rejection.
  const done = new Promise<{ ok: boolean; output: string }>((resolve) =>
    build.once('exit', (code, signal) => resolve({ ok: code === 0, output: `exit ${code ?? signal}\n${output}` })),
  );
  return { done, child: build };
}

/**
 * The copy's own server in production mode, run by tsx as `npm run dev` runs it, so the copy needs
 * no server build of its own (the web app is what differs between the two builds).
 */
async function startCopyServer(dir: string, port: number, dataDir: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(dir, 'server', 'main.ts')], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the second build's server exited:\n${stderr}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false, // not listening yet
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the second build's server did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

let copyDir = '';
let dataDir = '';
let server: ServerProcess | null = null;
let building: ChildProcess | null = null;

test.beforeEach(() => {
  copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-build2-'));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-build2-data-'));
});
test.afterEach(async () => {
  if (building && building.exitCode === null && building.signalCode === null) {
    const exited = new Promise((resolve) => building!.once('exit', resolve));
    building.kill('SIGKILL');
    await exited;
  }
  building = null;
  await server?.stop('SIGKILL');
  server = null;
  fs.rmSync(copyDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('after a new build only its files are cached, and a document still opens offline', async ({ browser }) => {
  test.setTimeout(300_000);
  // The second build runs while the first build's part of the test does.
  const secondBuild = buildChangedCopy(copyDir);
  building = secondBuild.child;

  server = await startServerProcess(PORT, dataDir);
  const oldBuild = fs.readFileSync(path.join(REPO_ROOT, '.next', 'BUILD_ID'), 'utf8').trim();
  const created = (await (await fetch(`${server.url}/api/docs`, { method: 'POST' })).json()) as { editUrl: string };
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(created.editUrl);
  await waitForEditor(page);
  await typeInEditor(page, 'written on the first build');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  await expect(page.getByTestId('offline-readiness')).toHaveAttribute('data-state', 'ready');

  // Before: the first build's cache alone, with both pages and its files.
  const before = await cacheContents(page);
  expect(Object.keys(before)).toEqual([`concord-build-${oldBuild}`]);
  const oldFiles = staticFiles(before[`concord-build-${oldBuild}`]!);
  expect(oldFiles.length).toBeGreaterThan(0);
  expect(before[`concord-build-${oldBuild}`]).toEqual(expect.arrayContaining(['/', DOCUMENT_PAGE]));
  await page.close();

  // The deploy: the first build's server stops, the second's takes the same origin.
  const built = await secondBuild.done;
  if (!built.ok) throw new Error(`the second build failed: ${built.output}`);
  await server.stop('SIGTERM');
  server = await startCopyServer(copyDir, PORT, dataDir);
  const newBuild = fs.readFileSync(path.join(copyDir, '.next', 'BUILD_ID'), 'utf8').trim();
  expect(newBuild).not.toBe(oldBuild);

  const next = await context.newPage();
  await next.goto(created.editUrl);
  await waitForEditor(next);
  await expect(next.getByTestId('offline-readiness')).toHaveAttribute('data-state', 'ready');
  expect(await next.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toContain(`build=${newBuild}`);

  // After: the old build's cache is gone; the new one holds both pages and every file loaded.
  await expect.poll(async () => Object.keys(await cacheContents(next))).toEqual([`concord-build-${newBuild}`]);
  const after = (await cacheContents(next))[`concord-build-${newBuild}`]!;
  expect(after).toEqual(expect.arrayContaining(['/', DOCUMENT_PAGE]));
  const loaded = await next.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => new URL(entry.name))
      .filter((url) => url.pathname.startsWith('/_next/static/'))
      .map((url) => url.pathname + url.search),
  );
  expect(after).toEqual(expect.arrayContaining(loaded));
  // The changed stylesheet (and the chunk holding the build ID) make some files the old build's alone.
  const oldOnly = oldFiles.filter((file) => !staticFiles(after).includes(file));
  expect(oldOnly.length).toBeGreaterThan(0);
  expect(staticFiles(after).filter((file) => !oldFiles.includes(file)).length).toBeGreaterThan(0);
  await next.close();

  // Offline, the document opens from the new build's cache alone.
  await context.routeWebSocket(/\/ws\//, (ws) => ws.close({ code: 4999, reason: 'cut by test' }));
  await context.setOffline(true);
  const offline = await context.newPage();
  await offline.goto(created.editUrl);
  await offline.waitForFunction(() => window.__concord?.ready === true);
  await expect.poll(() => editorText(offline)).toBe('written on the first build');
  await expect(offline.getByTestId('status')).toHaveAttribute('data-status', 'offline');
  await context.close();
});
