/** A self-contained HTML error page for answers that never reach Next (e.g. a malformed link). */
import { escapeHtml } from '../../lib/documents/toHtml';

export function errorPage(status: number, heading: string, detail: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} · ${escapeHtml(heading)} — Concord</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; display: grid; place-items: center; min-height: 100vh; }
  main { background: #fff; border: 1px solid #d0d7de; border-radius: 12px; padding: 2rem 2.5rem; max-width: 32rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
  .status { color: #8c959f; font-size: .9rem; margin: 0; }
  a { color: #0969da; }
</style>
</head>
<body>
<main data-testid="error-page" data-status-code="${status}">
<p class="status">Error ${status}</p>
<h1>${escapeHtml(heading)}</h1>
<p>${escapeHtml(detail)}</p>
<p><a href="/">Go to Concord's start page</a></p>
</main>
</body>
</html>
`;
}
