/**
 * The operator's status page (issue #12 item 7) in a real browser: two regions as relay
 * processes, their link through TCP proxies the test cuts. /status shows the peer up, turns it
 * down when the link is cut and up again when it heals, all without a reload, with the change
 * made meanwhile in the backlog and then confirmed; its link opens the peer's own /status. The
 * single-region server Playwright starts shows "single region". On an instance of a region of
 * several that does not hold the region links, the page names the instance that does.
 */
import { expect, test, type Page } from '@playwright/test';
import { mintDocument } from '../../lib/auth/capabilities';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startRedisServer } from '../support/redisServer';
import { startRelayProcess, type RelayProcess } from '../support/relayProcess';
import { TempDirs } from '../support/tempDirs';

const SECRET = 'a-cluster-secret-of-at-least-32-characters';
const dirs = new TempDirs();
const cleanups: (() => unknown)[] = [];

test.afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

/** Errors the page logs (a script refused by the CSP, a failed fetch) fail the test. */
function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

const peerRow = (page: Page, name: string) => page.locator(`[data-testid="peer"][data-peer="${name}"]`);
const UP_GREEN = 'rgb(218, 251, 225)';
const DOWN_RED = 'rgb(255, 235, 233)';

test('shows a peer region up, down while its link is cut and up again once it heals, without reloading', async ({ page }) => {
  test.setTimeout(90_000);
  const ports = { east: 0, west: 0 };
  const proxy = async (target: () => number): Promise<TcpProxy> => {
    const p = await startTcpProxy(target);
    cleanups.push(() => p.close());
    return p;
  };
  // Each region dials the other through its own proxy; browsers reach each through another.
  const eastToWest = await proxy(() => ports.west);
  const westToEast = await proxy(() => ports.east);
  const eastPublic = await proxy(() => ports.east);
  const westPublic = await proxy(() => ports.west);
  const start = (name: 'east' | 'west', peer: TcpProxy, publicProxy: TcpProxy): Promise<RelayProcess> =>
    startRelayProcess(dirs.make(`concord-e2e-status-${name}-`), {
      REGION: name,
      PEERS: peer.url,
      CLUSTER_SECRET: SECRET,
      REGION_PUBLIC_URL: publicProxy.url,
    });
  const [east, west] = await Promise.all([start('east', eastToWest, eastPublic), start('west', westToEast, westPublic)]);
  cleanups.push(() => east.stop('SIGTERM'), () => west.stop('SIGTERM'));
  ports.east = east.port;
  ports.west = west.port;

  const errors = watchConsole(page);
  await page.goto(`${eastPublic.url}/status`);
  await expect(page.getByTestId('region-name')).toHaveText('east');
  await expect(page.getByTestId('self')).toContainText('this region');
  const row = peerRow(page, 'west');
  const state = row.getByTestId('peer-state');
  await expect(row).toHaveAttribute('data-state', 'up', { timeout: 20_000 });
  await expect(state).toHaveText('up');
  await expect(state).toHaveCSS('background-color', UP_GREEN);
  await expect(row.getByTestId('peer-status-link')).toHaveAttribute('href', `${westPublic.url}/status`);
  await expect(row.getByTestId('peer-backlog')).toHaveText('none');
  // A reload would drop this.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  eastToWest.cut();
  westToEast.cut();
  await expect(row).toHaveAttribute('data-state', 'down');
  await expect(state).toHaveText('down');
  await expect(state).toHaveCSS('background-color', DOWN_RED);
  await expect(row.getByTestId('peer-last-contact')).toHaveText(/^\d+ (s|min) ago$/);

  // A change made in east while the link is cut waits in west's backlog.
  const caps = mintDocument();
  const writer: NodeClient = connectClient(`ws://127.0.0.1:${east.port}/ws`, caps.docId, caps.edit);
  cleanups.push(() => writer.destroy());
  await writer.synced;
  writer.doc.getText('title').insert(0, 'written while the link was cut');
  await expect(row.getByTestId('peer-backlog')).toHaveText(/^1 document · [\d.]+ (B|KiB)$/);
  await expect(row.getByTestId('peer-lag')).not.toHaveText('0 s');

  eastToWest.heal();
  westToEast.heal();
  await expect(row).toHaveAttribute('data-state', 'up', { timeout: 20_000 });
  await expect(state).toHaveCSS('background-color', UP_GREEN);
  await expect(row.getByTestId('peer-backlog')).toHaveText('none', { timeout: 20_000 });
  await expect(row.getByTestId('peer-lag')).toHaveText('0 s');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await expect(page.getByTestId('updated')).toHaveAttribute('data-reachable', 'true');

  // The peer's own page, from the link, sees this region up.
  await row.getByTestId('peer-status-link').click();
  await expect(page.getByTestId('region-name')).toHaveText('west');
  await expect(peerRow(page, 'east')).toHaveAttribute('data-state', 'up');
  expect(errors).toEqual([]);
});

test('a single-region server says so', async ({ page, baseURL }) => {
  const errors = watchConsole(page);
  await page.goto(`${baseURL}/status`);
  await expect(page.getByTestId('region-name')).toHaveText('single region');
  await expect(page.getByTestId('single-region')).toBeVisible();
  await expect(page.getByTestId('regions')).toBeHidden();
  await expect(page.getByTestId('summary')).toContainText('server ok');
  expect(errors).toEqual([]);
});

test('on an instance without the region links, says which instance holds them instead of showing the peer down', async ({ page }) => {
  test.setTimeout(90_000);
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  let westPort = 0;
  const toWest = await startTcpProxy(() => westPort);
  cleanups.push(() => toWest.close());
  // East is two instances on one data directory and one Redis; west dials east's first instance.
  const eastDir = dirs.make('concord-e2e-status-east-');
  let eastFirstPort = 0;
  const toEast = await startTcpProxy(() => eastFirstPort);
  cleanups.push(() => toEast.close());
  const eastEnv = (id: string) => ({ REGION: 'east', PEERS: toWest.url, CLUSTER_SECRET: SECRET, REDIS_URL: redis.url, INSTANCE_ID: id });
  const [east1, east2, west] = await Promise.all([
    startRelayProcess(eastDir, eastEnv('east-1')),
    startRelayProcess(eastDir, eastEnv('east-2')),
    startRelayProcess(dirs.make('concord-e2e-status-west-'), { REGION: 'west', PEERS: toEast.url, CLUSTER_SECRET: SECRET }),
  ]);
  cleanups.push(() => east1.stop('SIGTERM'), () => east2.stop('SIGTERM'), () => west.stop('SIGTERM'));
  eastFirstPort = east1.port;
  westPort = west.port;
  // Whichever instance took the lease: the other is the one without links.
  let holder: RelayProcess | null = null;
  await expect
    .poll(async () => {
      for (const instance of [east1, east2]) {
        const health = (await (await fetch(`${instance.url}/healthz`)).json()) as { links: { here: boolean }; peers: { state: string }[] };
        if (health.links.here && health.peers[0]?.state === 'up') holder = instance;
      }
      return holder !== null;
    }, { timeout: 30_000 })
    .toBe(true);
  const [holderId, other] = holder === east1 ? ['east-1', east2] : ['east-2', east1];

  const errors = watchConsole(page);
  await page.goto(`${other.url}/status`);
  await expect(page.getByTestId('self-links')).toHaveText(`this region · its links are held by instance ${holderId}: see its status`);
  await expect(peerRow(page, 'west').getByTestId('peer-state')).toHaveText('elsewhere');
  await page.goto(`${holder!.url}/status`);
  await expect(page.getByTestId('self-links')).toHaveText(`this region · this instance (${holderId}) holds its links`);
  await expect(peerRow(page, 'west').getByTestId('peer-state')).toHaveText('up');
  expect(errors).toEqual([]);
});
