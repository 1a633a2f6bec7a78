/** Share links carry their capability in the fragment: `/d/<docId>#token=<capability>`. */
import { isCapabilityToken } from '../auth/capabilities';
import { isDocId } from '../ids';

/** The capability in a location hash such as `#token=…`, or null. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token');
  return token && isCapabilityToken(token) ? token : null;
}

/** An absolute share link for `origin` (e.g. `https://docs.example.com`). */
export function shareLink(origin: string, docId: string, token: string): string {
  return `${origin}/d/${docId}#token=${token}`;
}

/** The relay's base URL for the y-websocket provider, from the page's own location. */
export function relayUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/**
 * The document ID in a page path such as `/d/<docId>`, or null. Offline, the service worker
 * answers every document link with one cached page, so the editor reads its ID from the address
 * bar, not from what the server rendered.
 */
export function docIdFromPath(pathname: string): string | null {
  const match = /^\/d\/([^/]+)\/?$/.exec(pathname);
  return match && isDocId(match[1]!) ? match[1]! : null;
}
