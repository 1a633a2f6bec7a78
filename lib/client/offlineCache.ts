/**
 * The app shell offline: registers the service worker (public/sw.js) and asks it to keep the
 * current page and every build file it loaded, so the page opens next time with no network.
 * The worker keeps one cache per build and asks open pages which build they run before it drops
 * an old one; this module answers for the page. Browser-only, framework-free.
 */

/** This page's build (next.config.js inlines it), 'development' under `npm run dev`. */
export const BUILD_ID = process.env.CONCORD_BUILD_ID ?? 'development';
const KEEP_TIMEOUT_MS = 30_000;

/** The worker's script URL for a build: a new build is a new URL, so a new worker and cache. */
export function serviceWorkerUrl(buildId: string): string {
  return `/sw.js?build=${encodeURIComponent(buildId)}`;
}

/** The build a worker was registered for, from its script URL; null for the unkeyed worker of old. */
export function buildOfWorker(scriptURL: string): string | null {
  let url: URL;
  try {
    url = new URL(scriptURL, 'http://localhost');
  } catch {
    return null;
  }
  return url.pathname === '/sw.js' ? url.searchParams.get('build') : null;
}

/**
 * Whether a worker built for `workerBuild` is older than this page's build. Build IDs start with
 * their build time (next.config.js), so they sort by age; the unkeyed worker is older than any.
 */
export function isOlderBuild(workerBuild: string | null, pageBuild: string): boolean {
  return workerBuild === null || workerBuild < pageBuild;
}

export type OfflineReadiness = 'unsupported' | 'preparing' | 'ready' | 'failed';

/**
 * Registers the service worker for this page's build, unless a newer build's worker is already
 * in charge (a tab left open across a deploy must not move every other tab back to its build).
 * Dev builds skip it, and remove one a production build on the same origin left behind: it
 * would serve stale copies of hot-reloaded files.
 */
export async function registerServiceWorker(production: boolean): Promise<ServiceWorkerRegistration | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return null;
  if (!production) {
    const leftovers = await navigator.serviceWorker.getRegistrations();
    await Promise.all(leftovers.map((registration) => registration.unregister()));
    return null;
  }
  // Listening before registering: the new worker asks as soon as it activates.
  navigator.serviceWorker.addEventListener('message', answerBuildQuery);
  navigator.serviceWorker.startMessages();
  const existing = await navigator.serviceWorker.getRegistration('/');
  const newest = existing?.installing ?? existing?.waiting ?? existing?.active;
  if (existing && newest && !isOlderBuild(buildOfWorker(newest.scriptURL), BUILD_ID)) return existing;
  return navigator.serviceWorker.register(serviceWorkerUrl(BUILD_ID), { scope: '/' });
}

/** Tells a worker that asks { type: 'which-build' } which build this page runs. */
function answerBuildQuery(event: MessageEvent<unknown>): void {
  const data = event.data as { type?: unknown } | null;
  if (data?.type === 'which-build') event.ports[0]?.postMessage({ build: BUILD_ID });
}

/**
 * The registration's active worker once it is at least this page's build, so the files are kept
 * in this build's cache by the worker that will serve them; the older active one if the newer
 * worker fails to install.
 */
async function activeWorker(registration: ServiceWorkerRegistration): Promise<ServiceWorker | null> {
  for (;;) {
    const active = registration.active;
    if (active && !isOlderBuild(buildOfWorker(active.scriptURL), BUILD_ID)) return active;
    const coming = registration.installing ?? registration.waiting;
    if (!coming) return active;
    await new Promise((resolve) => coming.addEventListener('statechange', resolve, { once: true }));
  }
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
  const worker = await activeWorker(registration);
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
    worker.postMessage({ type: 'keep-page', build: BUILD_ID, page: window.location.pathname, files }, [channel.port2]);
  });
}
