/**
 * The app shell offline: registers the service worker (public/sw.js) and asks it to keep the
 * current page and every build file it loaded, so the page opens next time with no network.
 * Browser-only, framework-free.
 */

export const SERVICE_WORKER_URL = '/sw.js';
const KEEP_TIMEOUT_MS = 30_000;

export type OfflineReadiness = 'unsupported' | 'preparing' | 'ready' | 'failed';

/**
 * Registers the service worker. Dev builds skip it, and remove one a production build on the
 * same origin left behind: it would serve stale copies of hot-reloaded files.
 */
export async function registerServiceWorker(production: boolean): Promise<ServiceWorkerRegistration | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return null;
  if (!production) {
    const leftovers = await navigator.serviceWorker.getRegistrations();
    await Promise.all(leftovers.map((registration) => registration.unregister()));
    return null;
  }
  return navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' });
}

/** Same-origin build files this page has loaded so far (scripts, styles, fonts). */
export function loadedBuildFiles(entries: readonly { name: string }[], origin: string): string[] {
  const files = new Set<string>();
  for (const { name } of entries) {
    let url: URL;
    try {
      url = new URL(name);
    } catch {
      continue;
    }
    if (url.origin === origin && url.pathname.startsWith('/_next/static/')) files.add(url.pathname + url.search);
  }
  return [...files];
}

/**
 * Asks the active service worker to keep this page and its build files. Resolves 'ready' once
 * they are cached.
 */
export async function keepPageOffline(production: boolean): Promise<OfflineReadiness> {
  const registration = await registerServiceWorker(production).catch((err: unknown) => {
    console.warn('concord: the service worker could not be registered; this page will not open offline', err);
    return null;
  });
  if (!registration) return 'unsupported';
  const ready = await navigator.serviceWorker.ready;
  const worker = ready.active;
  if (!worker) return 'failed';
  const files = loadedBuildFiles(performance.getEntriesByType('resource'), window.location.origin);
  return new Promise<OfflineReadiness>((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve('failed'), KEEP_TIMEOUT_MS);
    channel.port1.onmessage = (event: MessageEvent<{ ok: boolean; error?: string }>) => {
      clearTimeout(timer);
      if (!event.data.ok) console.warn('concord: could not keep this page for offline use:', event.data.error);
      resolve(event.data.ok ? 'ready' : 'failed');
    };
    worker.postMessage({ type: 'keep-page', page: window.location.pathname, files }, [channel.port2]);
  });
}
