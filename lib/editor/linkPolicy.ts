/**
 * Which link targets the editor accepts. Only web and mail links: `javascript:`, `data:` and
 * friends would let a collaborator run script in a reader's browser.
 */
const ALLOWED_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The normalised href when `href` is an allowed absolute http/https/mailto URL, else null. */
export function safeLinkHref(href: string): string | null {
  const trimmed = href.trim();
  if (trimmed.length === 0 || trimmed.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    // Not an absolute URL: not a link we accept.
    return null;
  }
  return ALLOWED_PROTOCOLS.has(url.protocol) ? url.href : null;
}
