/**
 * GET /status: an operator's view of this region and its links to the others, at a glance. Served
 * by our own routes, so relay-only servers have it too. The page itself is static (nothing in it
 * comes from a request or a peer); statusScript.ts fills it from /healthz every two seconds.
 */
import { BASE_HEADERS } from './respond';

/**
 * Ours allow nothing to run (respond.ts); this page runs its one same-origin script and reads
 * /healthz, nothing else: no inline script, no other origin.
 */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const STATUS_PAGE_HEADERS = {
  ...BASE_HEADERS,
  'Content-Security-Policy': STATUS_PAGE_CSP,
  'Content-Type': 'text/html; charset=utf-8',
} as const;

export const STATUS_SCRIPT_PATH = '/status.js';

export function statusPageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status · Concord</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; padding: 2rem; }
  main { max-width: 64rem; margin: 0 auto; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  #summary { margin: 0 0 1.25rem; color: #59636e; }
  #summary[data-status="degraded"] { color: #cf222e; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
  th, td { text-align: left; padding: .55rem .8rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
  th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: #59636e; background: #f6f8fa; }
  tr.self td:first-child { font-weight: 600; }
  .pill { display: inline-block; min-width: 3.2rem; text-align: center; padding: .05rem .6rem; border-radius: 999px; font-weight: 600; }
  .pill.up { background: #dafbe1; color: #116329; border: 1px solid #4ac26b; }
  .pill.down { background: #ffebe9; color: #a40e26; border: 1px solid #ff8182; }
  .pill.elsewhere { background: #f6f8fa; color: #57606a; border: 1px solid #d0d7de; }
  .muted { color: #59636e; }
  .small { font-size: .8rem; }
  #single-region { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem 1.25rem; }
  #updated { margin-top: 1rem; font-size: .85rem; color: #59636e; }
  #updated[data-reachable="false"] { color: #a40e26; font-weight: 600; }
  a { color: #0969da; }
  code { font-size: .9em; }
</style>
</head>
<body>
<main data-testid="status-page">
<h1>Concord · <span id="region-name" data-testid="region-name">…</span></h1>
<p id="summary" data-testid="summary">Loading…</p>
<p id="single-region" data-testid="single-region" hidden>This server runs as a <strong>single region</strong>: it is not linked to any other
(<code>REGION</code>, <code>PEERS</code> and <code>CLUSTER_SECRET</code> are not set).</p>
<table id="regions" data-testid="regions" hidden>
<caption hidden>Regions and the links from this one</caption>
<thead><tr><th scope="col">Region</th><th scope="col">Link</th><th scope="col">Last contact</th><th scope="col">Replication lag</th><th scope="col">Backlog (not yet confirmed)</th><th scope="col">Its status page</th></tr></thead>
<tbody id="peer-rows"></tbody>
</table>
<p id="updated" data-testid="updated">Not updated yet.</p>
<noscript><p>This page needs JavaScript to refresh itself; the same facts are at <a href="/healthz">/healthz</a> and <a href="/metrics">/metrics</a>.</p></noscript>
</main>
<script src="${STATUS_SCRIPT_PATH}"></script>
</body>
</html>
`;
}
