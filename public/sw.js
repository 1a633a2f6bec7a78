/*
 * Concord's service worker: makes the app open with no network at all.
 *
 * - Pages: network first (the server's answer is always newest); offline or unreachable, the
 *   cached landing page, or for any document link the one cached document page — the editor
 *   reads the document ID from the address bar, so one page serves every document.
 * - Next's build files (/_next/static/…, content-hashed, never change): cache first.
 * - Never touched: the relay (/ws/…), the API, health and metrics, and React Server Component
 *   fetches (Next falls back to a full page load when they fail, which lands here).
 * - The editor page tells us, once loaded, which files it used (the first visit happens before
 *   this worker controls the page), and we cache them; see lib/client/offlineCache.ts.
 *
 * Plain JavaScript on purpose: the browser loads it as is from public/.
 */
// @ts-check
/// <reference lib="webworker" />

const CACHE = 'concord-app-v1';
/** The one cached document page, served for every /d/<id> link while offline. */
const DOCUMENT_PAGE = '/__concord/document-page';
const LANDING_PAGE = '/';
const NAVIGATION_TIMEOUT_MS = 4000;
const NEVER_CACHED = /^\/(ws|api)\/|^\/(healthz|metrics)$/;

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener('install', (event) => {
  // Best effort: the landing page, so "New document" works offline after a first visit.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.add(LANDING_PAGE))
      .catch(() => undefined)
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('concord-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => sw.clients.claim()),
  );
});

/** @param {string} pathname */
function isDocumentPage(pathname) {
  return /^\/d\/[^/]+\/?$/.test(pathname);
}

/** The cache key a page is kept under, or null for pages we do not keep. */
function pageKey(/** @type {string} */ pathname) {
  if (pathname === LANDING_PAGE) return LANDING_PAGE;
  if (isDocumentPage(pathname)) return DOCUMENT_PAGE;
  return null;
}

/** @param {Request} request */
function fetchWithTimeout(request) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not answer in time')), NAVIGATION_TIMEOUT_MS);
    fetch(request).then(
      (response) => {
        clearTimeout(timer);
        resolve(response);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** @param {Request} request @param {URL} url @returns {Promise<Response>} */
async function navigate(request, url) {
  const key = pageKey(url.pathname);
  try {
    const response = /** @type {Response} */ (await fetchWithTimeout(request));
    if (key && response.ok) {
      const copy = response.clone();
      void caches.open(CACHE).then((cache) => cache.put(key, copy));
    }
    return response;
  } catch (err) {
    const cached = key ? await caches.match(key) : undefined;
    if (cached) return cached;
    throw err;
  }
}

/** @param {Request} request @returns {Promise<Response>} */
async function buildFile(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    void caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

/** Other same-origin files (icon, robots): network first, cache as a fallback. @param {Request} request */
async function otherFile(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      void caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (err) {
    const cached = await caches.match(request);
    if (cached) return cached;
    throw err;
  }
}

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin || NEVER_CACHED.test(url.pathname)) return;
  if (request.headers.get('RSC') === '1' || url.searchParams.has('_rsc')) return;
  if (request.mode === 'navigate') event.respondWith(navigate(request, url));
  else if (url.pathname.startsWith('/_next/static/')) event.respondWith(buildFile(request));
  else if (!url.pathname.startsWith('/_next/')) event.respondWith(otherFile(request));
});

/**
 * { type: 'keep-page', page: '/d/<id>', files: ['/_next/static/…', …] } from a loaded page:
 * cache the files it used and the page itself. Answers on the message port with
 * { ok: true, files: <number cached> } or { ok: false, error }.
 */
sw.addEventListener('message', (event) => {
  const data = event.data;
  const port = event.ports[0];
  if (!data || data.type !== 'keep-page' || !port) return;
  event.waitUntil(
    keepPage(data.page, Array.isArray(data.files) ? data.files : []).then(
      (files) => port.postMessage({ ok: true, files }),
      (err) => port.postMessage({ ok: false, error: String(err) }),
    ),
  );
});

/** @param {unknown} page @param {unknown[]} files */
async function keepPage(page, files) {
  const cache = await caches.open(CACHE);
  const wanted = files.filter(
    (f) => typeof f === 'string' && f.startsWith('/_next/static/'),
  );
  let kept = 0;
  await Promise.all(
    wanted.map(async (file) => {
      if (await cache.match(file)) {
        kept++;
        return;
      }
      const response = await fetch(file);
      if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
      await cache.put(file, response);
      kept++;
    }),
  );
  const key = typeof page === 'string' ? pageKey(page) : null;
  if (key && typeof page === 'string') {
    const response = await fetch(page, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${page}: HTTP ${response.status}`);
    await cache.put(key, response);
  }
  return kept;
}
