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
 * One cache per build (issue #11): pages register this script as /sw.js?build=<Next build ID>,
 * so every deploy installs a new worker with its own cache, `concord-build-<id>`. Old builds'
 * caches are dropped when this worker activates and whenever a page has been kept, except
 *   - the cache of any build a page that is still open runs (we ask every window): such a page
 *     may still load one of its build's files lazily (the editor is a dynamic import), or create
 *     a document offline, and the new server no longer has those files;
 *   - until this build's cache can open both pages offline, the newest one that can, so a deploy
 *     never loses "opens offline" in the meantime.
 * skipWaiting + clients.claim: the new worker takes over open pages of older builds at once,
 * rather than waiting for every tab to close (a tab that is only ever reloaded would keep the old
 * worker forever). That is safe because build files are looked up in every cache, and each old
 * build's cache is kept while a page of it is open; those pages' "keep this page" messages name
 * their build, so their files go to their own build's cache, not ours.
 *
 * Plain JavaScript on purpose: the browser loads it as is from public/.
 */
// @ts-check
/// <reference lib="webworker" />

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const CACHE_PREFIX = 'concord-build-';
/** Caches this worker manages: every build's, and the one cache before them (concord-app-v1). */
const OUR_CACHES = /^concord-/;
const BUILD_ID = /^[A-Za-z0-9_.-]{1,100}$/;
const BUILD = buildOf(new URL(sw.location.href).searchParams.get('build')) ?? 'unknown';
const CACHE = cacheName(BUILD);
/** The one cached document page, served for every /d/<id> link while offline. */
const DOCUMENT_PAGE = '/__concord/document-page';
const LANDING_PAGE = '/';
const NAVIGATION_TIMEOUT_MS = 4000;
/** How long an open page has to say which build it runs; one that does not is not waited for. */
const BUILD_QUERY_TIMEOUT_MS = 2000;
const NEVER_CACHED = /^\/(ws|api)\/|^\/(healthz|metrics)$/;

/** @param {unknown} value @returns {string | null} */
function buildOf(value) {
  return typeof value === 'string' && BUILD_ID.test(value) ? value : null;
}

/** @param {string} build */
function cacheName(build) {
  return CACHE_PREFIX + build;
}

sw.addEventListener('install', (event) => {
  // Best effort: the landing page, so "New document" works offline after a first visit.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.add(LANDING_PAGE))
      .catch((err) => console.warn('concord: could not keep the start page for offline use', err))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
  // Not part of activation: the browser holds every page's requests until activation ends, and
  // asking open pages may take BUILD_QUERY_TIMEOUT_MS. If the browser stops this worker first,
  // the next kept page drops them.
  dropOldBuilds().catch((err) => console.warn('concord: could not drop old builds’ caches', err));
});

/**
 * Deletes every cache of ours that no open page needs (see the top of this file). Runs in any
 * worker, old or new: it keeps its own cache, whatever builds open pages report, and the newest
 * cache that opens both pages offline unless its own already does.
 */
async function dropOldBuilds() {
  const names = (await caches.keys()).filter((name) => OUR_CACHES.test(name));
  const keep = new Set([CACHE]);
  for (const build of await buildsOfOpenPages()) keep.add(cacheName(build));
  if (!(await opensOffline(CACHE))) {
    for (const name of [...names].reverse()) {
      if (name !== CACHE && (await opensOffline(name))) {
        keep.add(name);
        break;
      }
    }
  }
  await Promise.all(names.filter((name) => !keep.has(name)).map((name) => caches.delete(name)));
}

/** Whether this cache holds both pages, so the app opens offline from it alone. @param {string} name */
async function opensOffline(name) {
  const cache = await caches.open(name);
  return Boolean((await cache.match(LANDING_PAGE)) && (await cache.match(DOCUMENT_PAGE)));
}

/**
 * The builds that open windows run, as they answer { type: 'which-build' }. A window that does
 * not answer in time (an error page, a page still loading, a frozen background tab) pins none.
 * @returns {Promise<string[]>}
 */
async function buildsOfOpenPages() {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const answers = await Promise.all(windows.map(askBuild));
  return answers.filter((build) => build !== null);
}

/** @param {Client} client @returns {Promise<string | null>} */
function askBuild(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const done = (/** @type {string | null} */ build) => {
      clearTimeout(timer);
      channel.port1.close();
      resolve(build);
    };
    const timer = setTimeout(() => done(null), BUILD_QUERY_TIMEOUT_MS);
    channel.port1.onmessage = (event) => done(buildOf(event.data && event.data.build));
    client.postMessage({ type: 'which-build' }, [channel.port2]);
  });
}

/** A cached page: this build's first, then the newest other build's that has it. @param {string} key */
async function cachedPage(key) {
  const own = await (await caches.open(CACHE)).match(key);
  if (own) return own;
  for (const name of (await caches.keys()).reverse()) {
    if (!OUR_CACHES.test(name)) continue;
    const response = await (await caches.open(name)).match(key);
    if (response) return response;
  }
  return undefined;
}

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
    const cached = key ? await cachedPage(key) : undefined;
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
 * { type: 'keep-page', build, page: '/d/<id>', files: ['/_next/static/…', …] } from a loaded page:
 * cache the files it used and the page itself, in the cache of the page's build (an older page
 * may be talking to a newer worker, or a newer page to the old worker while its own installs),
 * then drop the builds nobody needs. Answers on the message port with
 * { ok: true, files: <number cached> } or { ok: false, error }.
 */
sw.addEventListener('message', (event) => {
  const data = event.data;
  const port = event.ports[0];
  if (!data || data.type !== 'keep-page' || !port) return;
  const cache = cacheName(buildOf(data.build) ?? BUILD);
  event.waitUntil(
    keepPage(cache, data.page, Array.isArray(data.files) ? data.files : [])
      .then(
        (files) => port.postMessage({ ok: true, files }),
        (err) => port.postMessage({ ok: false, error: String(err) }),
      )
      .then(() => dropOldBuilds()),
  );
});

/** @param {string} name the cache @param {unknown} page @param {unknown[]} files */
async function keepPage(name, page, files) {
  const cache = await caches.open(name);
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
