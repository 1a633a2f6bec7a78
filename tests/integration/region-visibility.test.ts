/**
 * Visibility of regions (issue #12 item 7): the per-peer /metrics series follow a real cut and
 * heal of the link (TCP proxies), a peer with no proven name yet is labelled by its URL, the
 * traffic counters survive a reconnect, and /status is served with its script under a policy
 * that lets nothing else run. (The page itself in a browser: tests/e2e/status.spec.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../server/startServer';
import { mintDocument } from '../../lib/auth/capabilities';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { startTcpProxy, type TcpProxy } from '../../server/dev/tcpProxy';
import { TempDirs } from '../support/tempDirs';

const SECRET = 'a-cluster-secret-of-at-least-32-characters';
const cleanups: (() => unknown)[] = [];
const dirs = new TempDirs();
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  dirs.removeAll();
});

async function region(name: string, peer: TcpProxy): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: dirs.make(`concord-visibility-${name}-`),
    next: false,
    logLevel: 'silent',
    region: { region: name, peers: [new URL(peer.url)], secret: SECRET, catchUpIntervalMs: 200 },
  });
  cleanups.push(() => server.close());
  return server;
}

function client(server: RunningServer, docId: string, token: string): NodeClient {
  const c = connectClient(server.wsUrl, docId, token);
  cleanups.push(() => c.destroy());
  return c;
}

/** One sample of a Prometheus text exposition, by name and exact labels; undefined when absent. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of exposition.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (have === wanted) return Number(match[3]);
  }
  return undefined;
}

async function scrape(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('region visibility', () => {
  it('exports each peer\'s link, contact, lag, backlog and traffic as Prometheus series, through a cut and a heal', async () => {
    const ports = { east: 0, west: 0 };
    // Until west listens its proxy leads nowhere (port 0 refuses), so east cannot learn its name.
    const toWest = await startTcpProxy(() => ports.west);
    const toEast = await startTcpProxy(() => ports.east);
    cleanups.push(() => toWest.close(), () => toEast.close());
    const east = await region('east', toWest);
    ports.east = east.port;

    // A peer that has not proven a name is labelled by the URL east dials it at.
    const byUrl = { peer: new URL(toWest.url).toString() };
    let text = await scrape(east);
    expect(sample(text, 'concord_region_link_up', byUrl)).toBe(0);
    expect(sample(text, 'concord_region_backlog_documents', byUrl)).toBe(0);
    expect(sample(text, 'concord_region_last_contact_seconds', byUrl)).toBeUndefined();

    const west = await region('west', toEast);
    ports.west = west.port;
    // West's dial may link first; east's own dialer, in back-off, learns the name when it redials.
    await vi.waitFor(async () => {
      text = await scrape(east);
      expect(sample(text, 'concord_region_link_up', { peer: 'west' })).toBe(1);
      expect(sample(text, 'concord_region_link_up', byUrl)).toBeUndefined();
    }, { timeout: 10_000 });
    expect(sample(text, 'concord_region_last_contact_seconds', { peer: 'west' })).toBeGreaterThanOrEqual(0);

    // A live change: counted as an update sent by east and received by west, with its bytes.
    const caps = mintDocument();
    const writer = client(east, caps.docId, caps.edit);
    const reader = client(west, caps.docId, caps.edit);
    await Promise.all([writer.synced, reader.synced]);
    writer.doc.getText('title').insert(0, 'before the cut');
    await vi.waitFor(() => expect(reader.doc.getText('title').toString()).toBe('before the cut'), { timeout: 10_000 });
    text = await scrape(east);
    const updatesBeforeCut = sample(text, 'concord_region_messages_sent_total', { peer: 'west', type: 'update' }) ?? 0;
    expect(updatesBeforeCut).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'concord_region_bytes_sent_total', { peer: 'west', type: 'update' })).toBeGreaterThan(0);
    const westText = await scrape(west);
    expect(sample(westText, 'concord_region_messages_received_total', { peer: 'east', type: 'update' })).toBeGreaterThanOrEqual(1);

    // Cut: the link goes down, east keeps a change west has not confirmed, and its age grows.
    toWest.cut();
    toEast.cut();
    await vi.waitFor(async () => expect(sample(await scrape(east), 'concord_region_link_up', { peer: 'west' })).toBe(0), { timeout: 10_000 });
    writer.doc.getText('title').insert(0, 'during the cut, ');
    await vi.waitFor(async () => {
      const during = await scrape(east);
      expect(sample(during, 'concord_region_backlog_documents', { peer: 'west' })).toBe(1);
      expect(sample(during, 'concord_region_backlog_bytes', { peer: 'west' })).toBeGreaterThan(0);
      expect(sample(during, 'concord_region_replication_lag_seconds', { peer: 'west' })).toBeGreaterThan(0.2);
      // Last contact is kept while the link is down: that is when it matters.
      expect(sample(during, 'concord_region_last_contact_seconds', { peer: 'west' })).toBeGreaterThan(0.2);
    }, { timeout: 10_000 });

    // Heal: up again, the backlog drains, and the counters carry on from where they were.
    toWest.heal();
    toEast.heal();
    await vi.waitFor(async () => {
      const after = await scrape(east);
      expect(sample(after, 'concord_region_link_up', { peer: 'west' })).toBe(1);
      expect(sample(after, 'concord_region_backlog_documents', { peer: 'west' })).toBe(0);
      expect(sample(after, 'concord_region_replication_lag_seconds', { peer: 'west' })).toBe(0);
    }, { timeout: 15_000 });
    await vi.waitFor(() => expect(reader.doc.getText('title').toString()).toBe('during the cut, before the cut'), { timeout: 10_000 });
    text = await scrape(east);
    expect(sample(text, 'concord_region_messages_sent_total', { peer: 'west', type: 'update' })).toBeGreaterThan(updatesBeforeCut);
    expect(sample(text, 'concord_region_messages_sent_total', { peer: 'west', type: 'state' })).toBeGreaterThan(0);
    expect(sample(text, 'concord_region_messages_received_total', { peer: 'west', type: 'stateReply' })).toBeGreaterThan(0);
  });

  it('serves /status and its script to a single region, under a policy that runs only that script', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: dirs.make('concord-visibility-single-'), next: false, logLevel: 'silent' });
    cleanups.push(() => server.close());

    const page = await fetch(`${server.url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = new Map(
      (page.headers.get('content-security-policy') ?? '').split(';').map((directive) => {
        const [name = '', ...values] = directive.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('default-src')).toBe("'none'");
    const html = await page.text();
    expect(html).toContain('<script src="/status.js"></script>');
    // No inline script: every <script> has a src.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();

    const script = await fetch(`${server.url}/status.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(source).toMatch(/fetch\(["']\/healthz["']/);
    // It parses as a script (a broken serialisation would throw here).
    expect(() => new Function(source)).not.toThrow();
    expect(source).not.toContain('innerHTML');

    expect((await fetch(`${server.url}/status`, { method: 'POST' })).status).toBe(405);
    // A single region exports no region series.
    expect(await scrape(server)).not.toContain('concord_region_');
  });
});
