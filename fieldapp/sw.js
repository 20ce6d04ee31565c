// The app shell offline, cache first. A release bumps VERSION: the browser sees this file change,
// installs the new shell as a whole into a new cache, and the next start runs it (never a mix of two
// releases' modules). API answers and photos are never cached.
const VERSION = 'gw-field-v1';
const SHELL = [
  '/field/',
  '/field/index.html',
  '/field/manifest.webmanifest',
  '/field/css/app.css',
  '/field/icons/icon.svg',
  '/field/icons/icon-192.png',
  '/field/js/api.js',
  '/field/js/app.js',
  '/field/js/db.js',
  '/field/js/dom.js',
  '/field/js/geo.js',
  '/field/js/i18n.js',
  '/field/js/map.js',
  '/field/js/mine.js',
  '/field/js/pair.js',
  '/field/js/patrol.js',
  '/field/js/photos.js',
  '/field/js/queue.js',
  '/field/js/queueview.js',
  '/field/js/report.js',
  '/field/js/session.js',
  '/field/js/tasks.js',
];

// API calls and photos go straight to the network without waking this worker, where the browser
// can route requests (static routing); elsewhere the fetch handler lets them through untouched.
function bypassApi(event) {
  if (!event.addRoutes || typeof URLPattern === 'undefined') return Promise.resolve();
  return event.addRoutes({
    condition: { not: { urlPattern: new URLPattern({ pathname: '/field/*' }) } },
    source: 'network',
  }).catch(() => undefined);
}

self.addEventListener('install', (event) => {
  event.waitUntil(Promise.all([
    caches.open(VERSION).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))),
    bypassApi(event),
  ]).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== VERSION) await caches.delete(key);
    await self.clients.claim();
  })());
});

function shellKey(url) {
  // /field, /field/ and /field/index.html are one page; the hash never reaches here.
  if (url.pathname === '/field' || url.pathname === '/field/' || url.pathname === '/field/index.html') return '/field/';
  return url.pathname;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname !== '/field' && !url.pathname.startsWith('/field/')) return; // API, /media: network only
  const key = shellKey(url);
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const hit = await cache.match(key);
    if (hit) return hit;
    const res = await fetch(request);
    if (res.ok && res.type === 'basic' && SHELL.includes(key)) await cache.put(key, res.clone());
    return res;
  })());
});
