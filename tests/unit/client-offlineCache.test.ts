import fs from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { buildOfWorker, isOlderBuild, loadedBuildFiles, serviceWorkerUrl } from '../../lib/client/offlineCache';

describe('loadedBuildFiles', () => {
  it('keeps only this origin’s Next build files, once each', () => {
    const origin = 'https://docs.example.com';
    const files = loadedBuildFiles(
      [
        { name: `${origin}/_next/static/chunks/app.js` },
        { name: `${origin}/_next/static/chunks/app.js` },
        { name: `${origin}/_next/static/css/site.css?v=2` },
        { name: `${origin}/api/docs/abc` },
        { name: `https://elsewhere.example/_next/static/chunks/x.js` },
        { name: 'not a url' },
      ],
      origin,
    );
    expect(files).toEqual(['/_next/static/chunks/app.js', '/_next/static/css/site.css?v=2']);
  });
});

describe('the worker’s URL names its build', () => {
  const build = '20261201T202723430Z-031989';

  it('round-trips the build through the script URL', () => {
    expect(serviceWorkerUrl(build)).toBe(`/sw.js?build=${build}`);
    expect(buildOfWorker(`https://docs.example.com${serviceWorkerUrl(build)}`)).toBe(build);
  });

  it('reads no build from the unkeyed worker of old or another script', () => {
    expect(buildOfWorker('https://docs.example.com/sw.js')).toBeNull();
    expect(buildOfWorker(`https://docs.example.com/other.js?build=${build}`)).toBeNull();
  });

  it('orders builds by their time, the unkeyed worker first', () => {
    const later = '20261202T080000000Z-000001';
    expect(isOlderBuild(build, later)).toBe(true);
    expect(isOlderBuild(later, build)).toBe(false);
    expect(isOlderBuild(build, build)).toBe(false);
    expect(isOlderBuild(null, build)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// public/sw.js itself, run in a VM context with in-memory Cache Storage and clients.

type Listener = (event: FakeEvent) => void;
interface FakeEvent {
  data?: unknown;
  ports: FakePort[];
  request?: unknown;
  waitUntil(promise: Promise<unknown>): void;
  respondWith(response: Promise<Response>): void;
}

/** A port pair that delivers synchronously, so a page's answer arrives before any timer. */
class FakeChannel {
  port1: FakePort = new FakePort();
  port2: FakePort = new FakePort();
  constructor() {
    this.port1.peer = this.port2;
    this.port2.peer = this.port1;
  }
}
class FakePort {
  peer: FakePort | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  closed = false;
  postMessage(data: unknown): void {
    if (this.peer && !this.peer.closed) this.peer.onmessage?.({ data });
  }
  close(): void {
    this.closed = true;
  }
}

function keyOf(request: unknown): string {
  const url = typeof request === 'string' ? request : (request as { url: string }).url;
  const parsed = new URL(url, 'http://app.test');
  return parsed.pathname + parsed.search;
}

class FakeCache {
  readonly entries = new Map<string, string>();
  async match(request: unknown): Promise<Response | undefined> {
    const body = this.entries.get(keyOf(request));
    return body === undefined ? undefined : new Response(body);
  }
  async put(request: unknown, response: Response): Promise<void> {
    this.entries.set(keyOf(request), await response.text());
  }
}

/** Cache Storage in creation order, as the real one lists it. */
class FakeCaches {
  readonly byName = new Map<string, FakeCache>();
  async keys(): Promise<string[]> {
    return [...this.byName.keys()];
  }
  async open(name: string): Promise<FakeCache> {
    if (!this.byName.has(name)) this.byName.set(name, new FakeCache());
    return this.byName.get(name)!;
  }
  async delete(name: string): Promise<boolean> {
    return this.byName.delete(name);
  }
  async match(request: unknown): Promise<Response | undefined> {
    for (const cache of this.byName.values()) {
      const found = await cache.match(request);
      if (found) return found;
    }
    return undefined;
  }
  /** Test set-up: a build's cache holding these keys. */
  seed(name: string, keys: string[], body = name): void {
    const cache = new FakeCache();
    for (const key of keys) cache.entries.set(key, `${body} ${key}`);
    this.byName.set(name, cache);
  }
}

/** An open window: answers "which build?" with `build`, or never (null), like an error page. */
function windowOf(build: string | null) {
  return {
    postMessage(message: { type: string }, transfer: FakePort[]) {
      if (build !== null && message.type === 'which-build') transfer[0]!.postMessage({ build });
    },
  };
}

const COMPLETE = ['/', '/__concord/document-page'];
const SW_SOURCE = fs.readFileSync(new URL('../../public/sw.js', import.meta.url), 'utf8');

function startWorker(build: string, opts: { caches: FakeCaches; windows: ReturnType<typeof windowOf>[]; online?: boolean }) {
  const listeners = new Map<string, Listener>();
  const self = {
    location: { href: `http://app.test/sw.js?build=${build}`, origin: 'http://app.test' },
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    skipWaiting: async () => undefined,
    clients: { claim: async () => undefined, matchAll: async () => opts.windows },
  };
  const fetch = async (request: unknown) => {
    if (opts.online === false) throw new TypeError('Failed to fetch');
    return new Response(`network ${keyOf(request)}`);
  };
  // Timers fire on the next macrotask: a window that has not answered by then never will here.
  const context = vm.createContext({
    self,
    caches: opts.caches,
    fetch,
    MessageChannel: FakeChannel,
    URL,
    Response,
    console,
    setTimeout: (fn: () => void) => setImmediate(fn),
    clearTimeout: (handle: NodeJS.Immediate) => clearImmediate(handle),
  });
  vm.runInContext(SW_SOURCE, context, { filename: 'sw.js' });

  /** Dispatches an event and resolves once everything it passed to waitUntil/respondWith settled. */
  async function dispatch(type: string, init: Partial<FakeEvent>): Promise<Response | undefined> {
    const pending: Promise<unknown>[] = [];
    let response: Promise<Response> | undefined;
    listeners.get(type)!({
      ports: [],
      ...init,
      waitUntil: (promise) => pending.push(promise),
      respondWith: (promise) => (response = promise),
    });
    await Promise.allSettled(pending);
    return response;
  }

  return {
    activate: () => dispatch('activate', {}),
    /** A page of `pageBuild` asks to keep `page` and `files`; resolves with the worker's answer. */
    async keepPage(pageBuild: string, page: string, files: string[] = []): Promise<unknown> {
      const channel = new FakeChannel();
      let answer: unknown;
      channel.port1.onmessage = (event) => (answer = event.data);
      await dispatch('message', { data: { type: 'keep-page', build: pageBuild, page, files }, ports: [channel.port2] });
      return answer;
    },
    async navigate(path: string): Promise<string> {
      const request = { method: 'GET', url: `http://app.test${path}`, mode: 'navigate', headers: new Headers() };
      const response = await dispatch('fetch', { request });
      return (await response!).text();
    },
  };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('service worker: one cache per build', () => {
  it('on activate drops older builds’ caches and the unkeyed one, once its own opens offline', async () => {
    const caches = new FakeCaches();
    caches.seed('concord-app-v1', [...COMPLETE, '/_next/static/old.js']);
    caches.seed('concord-build-A', [...COMPLETE, '/_next/static/a.js']);
    caches.seed('concord-build-B', [...COMPLETE, '/_next/static/b.js']);
    caches.seed('other-app', ['/x']);
    await startWorker('B', { caches, windows: [windowOf('B')] }).activate();
    await until(async () => (await caches.keys()).length === 2);
    expect(await caches.keys()).toEqual(['concord-build-B', 'other-app']);
  });

  it('keeps the cache of every build an open page runs; a page that does not answer pins nothing', async () => {
    const caches = new FakeCaches();
    caches.seed('concord-build-A', [...COMPLETE, '/_next/static/a.js']);
    caches.seed('concord-build-C', [...COMPLETE, '/_next/static/c.js']);
    caches.seed('concord-build-B', COMPLETE);
    const windows = [windowOf('A'), windowOf(null), windowOf('B')];
    const worker = startWorker('B', { caches, windows });
    expect(await worker.keepPage('B', '/d/abc', ['/_next/static/b.js'])).toEqual({ ok: true, files: 1 });
    expect(await caches.keys()).toEqual(['concord-build-A', 'concord-build-B']);

    // The page of A closes: the next kept page drops A.
    windows.shift();
    await worker.keepPage('B', '/');
    expect(await caches.keys()).toEqual(['concord-build-B']);
  });

  it('until its own cache opens both pages offline, keeps the newest one that does', async () => {
    const caches = new FakeCaches();
    caches.seed('concord-build-A', COMPLETE);
    caches.seed('concord-build-C', COMPLETE);
    caches.seed('concord-build-B', []);
    const worker = startWorker('B', { caches, windows: [windowOf('B')] });
    await worker.keepPage('B', '/');
    expect(await caches.keys()).toEqual(['concord-build-C', 'concord-build-B']);
    await worker.keepPage('B', '/d/abc');
    expect(await caches.keys()).toEqual(['concord-build-B']);
  });

  it('keeps a page’s files in its own build’s cache, whichever worker it talks to', async () => {
    const caches = new FakeCaches();
    caches.seed('concord-build-A', COMPLETE);
    caches.seed('concord-build-B', COMPLETE);
    const worker = startWorker('B', { caches, windows: [windowOf('A'), windowOf('B')] });
    await worker.keepPage('A', '/d/abc', ['/_next/static/a-lazy.js']);
    expect([...caches.byName.get('concord-build-A')!.entries.keys()]).toContain('/_next/static/a-lazy.js');
    expect([...caches.byName.get('concord-build-B')!.entries.keys()]).not.toContain('/_next/static/a-lazy.js');
  });

  it('offline, serves its own build’s page, else the newest build’s that has one', async () => {
    const caches = new FakeCaches();
    caches.seed('concord-build-A', COMPLETE, 'old');
    caches.seed('concord-build-C', COMPLETE, 'newer');
    caches.seed('concord-build-B', ['/'], 'own');
    const worker = startWorker('B', { caches, windows: [], online: false });
    expect(await worker.navigate('/d/abc')).toBe('newer /__concord/document-page');
    expect(await worker.navigate('/')).toBe('own /');
  });
});
