// Xieshang service worker: the app shell, cached per build, so the app opens
// with no network after one visit. Written into client/dist by `cargo xtask
// build` with the build's version and asset list filled in.
//
// - Navigations (any page path): the network first, with a short timeout; the
//   cached index.html when there is no answer. The shell then shows what the
//   sync engine keeps in IndexedDB.
// - The shell's files: from the cache (their names carry their content hash).
// - /api and /sync: never touched; the app handles being offline itself.
'use strict';

const VERSION = '{{version}}';
const ASSETS = {{assets}};
const PREFIX = 'xieshang-shell-';
const CACHE = PREFIX + VERSION;
const NAVIGATION_TIMEOUT_MS = 3000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(ASSETS.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith(PREFIX) && key !== CACHE).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

function isApp(url) {
  return url.origin === self.location.origin
    && !url.pathname.startsWith('/api/')
    && !url.pathname.startsWith('/sync/')
    && url.pathname !== '/healthz';
}

async function navigation(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NAVIGATION_TIMEOUT_MS)),
    ]);
    if (response.ok) {
      return response;
    }
    const shell = await cache.match('/index.html');
    return shell || response;
  } catch (_) {
    const shell = await cache.match('/index.html');
    return shell || Response.error();
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) {
    return hit;
  }
  return fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  const url = new URL(request.url);
  if (!isApp(url)) {
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(navigation(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(asset(request));
  }
});
