/**
 * The browser half of /status (statusPage.ts): reads /healthz every two seconds and redraws the
 * regions table in place, no reload. Written here in TypeScript so it is type-checked against
 * the DOM and /healthz's shape, and served as its own source text (`/status.js`): relay-only
 * servers have no Next to bundle it, and a same-origin script needs no inline-script exception
 * in the page's Content-Security-Policy.
 *
 * `runStatusPage` must stay self-contained: no imports and no names from outside its body, since
 * only its text reaches the browser. Everything shown is set with textContent (never HTML), and
 * only http(s) URLs become links.
 */

/** The script served at /status.js. */
export function statusScriptSource(): string {
  return `'use strict';\n(${runStatusPage.toString()})();\n`;
}

/** What the page reads of GET /healthz (README, "Regions"). */
interface HealthBody {
  status: string;
  storage?: { kind: string; status: string };
  connections?: number;
  documentsLoaded?: number;
  uptimeSeconds?: number;
  region?: string;
  /** Several instances per region: whether this one holds the region links, and which does. */
  links?: { here: boolean; holder: string | null };
  peers?: {
    region: string | null;
    url: string | null;
    state: 'up' | 'down';
    lastContact: string | null;
    lagSeconds: number;
    backlog: { documents: number; bytes: number };
    publicUrl?: string | null;
  }[];
}

function runStatusPage(): void {
  const REFRESH_MS = 2000;
  const byId = (id: string): HTMLElement => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`status page: no #${id}`);
    return element;
  };
  const regionName = byId('region-name');
  const summary = byId('summary');
  const single = byId('single-region');
  const table = byId('regions');
  const rows = byId('peer-rows');
  const updated = byId('updated');
  let lastUpdate: Date | null = null;
  let refreshes = 0;

  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] => {
    const element = document.createElement(tag);
    if (text !== undefined) element.textContent = text;
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  };
  const cell = (text: string, attributes: Record<string, string> = {}) => el('td', text, attributes);

  /** Tenths below 10 s unless `whole` (an age read against the Date header, which has whole seconds). */
  const seconds = (s: number, whole = false): string => {
    if (s < 10) return whole ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172_800) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86_400)} days`;
  };
  const bytes = (n: number): string => {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
  };
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  /** Only http(s) URLs become links (a peer states its URL in the handshake). */
  const statusLink = (publicUrl: string | null | undefined): HTMLElement => {
    if (!publicUrl || !URL.canParse(publicUrl)) return el('span', '—', { class: 'muted' });
    const url = new URL(publicUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return el('span', '—', { class: 'muted' });
    const target = new URL('status', url.href.endsWith('/') ? url.href : `${url.href}/`);
    return el('a', target.href, { href: target.href, 'data-testid': 'peer-status-link' });
  };
  const statePill = (state: string) => el('span', state, { class: `pill ${state}`, 'data-testid': 'peer-state', 'data-state': state });

  const render = (health: HealthBody, serverNow: number): void => {
    const region = health.region ?? null;
    regionName.textContent = region ?? 'single region';
    document.title = `${region ?? 'Single region'} · status · Concord`;
    const parts = [
      `server ${health.status}`,
      health.storage ? `storage ${health.storage.kind} ${health.storage.status}` : null,
      health.connections === undefined ? null : plural(health.connections, 'connection', 'connections'),
      health.documentsLoaded === undefined ? null : `${plural(health.documentsLoaded, 'document', 'documents')} open`,
      health.uptimeSeconds === undefined ? null : `up ${seconds(health.uptimeSeconds, true)}`,
    ];
    summary.textContent = parts.filter((part) => part !== null).join(' · ');
    summary.setAttribute('data-status', health.status);

    const isSingle = region === null;
    single.hidden = !isSingle;
    table.hidden = isSingle;
    if (isSingle) {
      rows.replaceChildren();
      return;
    }
    const self = el('tr', undefined, { 'data-testid': 'self', class: 'self' });
    // On an instance without the region links every peer reads "down" from here: say where they are.
    const elsewhere = health.links !== undefined && !health.links.here;
    const linksNote = !health.links?.holder ? '' : elsewhere ? ` · its links are held by instance ${health.links.holder}: see its status` : ` · this instance (${health.links.holder}) holds its links`;
    self.append(cell(region), cell(`this region${linksNote}`, { class: 'muted', colspan: '5', 'data-testid': 'self-links' }));
    const peerRows = (health.peers ?? []).map((peer) => {
      const label = peer.region ?? peer.url ?? 'unknown';
      const row = el('tr', undefined, { 'data-testid': 'peer', 'data-peer': label, 'data-state': peer.state });
      const name = cell(peer.region ?? 'not linked yet', peer.region ? {} : { class: 'muted' });
      if (peer.url) name.append(el('div', `dialed at ${peer.url}`, { class: 'muted small' }));
      const contact = peer.lastContact === null ? 'never' : `${seconds(Math.max(0, (serverNow - Date.parse(peer.lastContact)) / 1000), true)} ago`;
      const backlog =
        peer.backlog.documents === 0 ? 'none' : `${plural(peer.backlog.documents, 'document', 'documents')} · ${bytes(peer.backlog.bytes)}`;
      const stateCell = el('td');
      stateCell.append(elsewhere ? statePill('elsewhere') : statePill(peer.state));
      const linkCell = el('td');
      linkCell.append(statusLink(peer.publicUrl));
      row.append(
        name,
        stateCell,
        cell(contact, { 'data-testid': 'peer-last-contact' }),
        cell(peer.lagSeconds === 0 ? '0 s' : seconds(peer.lagSeconds), { 'data-testid': 'peer-lag' }),
        cell(backlog, { 'data-testid': 'peer-backlog' }),
        linkCell,
      );
      return row;
    });
    if (peerRows.length === 0) {
      peerRows.push(el('tr', undefined, {}));
      peerRows[0]!.append(cell('No peer regions: PEERS is empty and none has linked to this one yet.', { colspan: '6', class: 'muted' }));
    }
    rows.replaceChildren(self, ...peerRows);
  };

  const showReachable = (reachable: boolean, problem?: string): void => {
    updated.setAttribute('data-reachable', String(reachable));
    updated.setAttribute('data-refreshes', String(refreshes));
    const at = lastUpdate ? lastUpdate.toLocaleTimeString() : 'never';
    updated.textContent = reachable
      ? `Updated ${at}, every ${REFRESH_MS / 1000} s.`
      : `Cannot reach this server (${problem ?? 'no answer'}); last update ${at}. Retrying every ${REFRESH_MS / 1000} s.`;
  };

  const refresh = async (): Promise<void> => {
    try {
      const response = await fetch('/healthz', { cache: 'no-store', headers: { Accept: 'application/json' } });
      // 503 (storage down) still carries the body: show it.
      const health = (await response.json()) as HealthBody;
      // Ages are measured on the server's clock (its Date header), not this browser's.
      const serverNow = Date.parse(response.headers.get('Date') ?? '');
      render(health, Number.isNaN(serverNow) ? Date.now() : serverNow);
      lastUpdate = new Date();
      refreshes++;
      showReachable(true);
    } catch (err) {
      showReachable(false, err instanceof Error ? err.message : String(err));
    } finally {
      setTimeout(() => void refresh(), REFRESH_MS);
    }
  };
  void refresh();
}
