// The dock page's service worker (issue 6 offline): keeps the page shell (and
// the camera's decoder, zxing_reader.wasm, issue 13) so a
// reload while the service is unreachable still opens the page, and offline
// bundle verification keeps working. Network first, so a reachable service
// always serves its current page; API calls (/v1/...) are never cached.
// Plain script, no bundling: it is served as is at /dock/sw.js.

/** Bumped when the shell's list changes; old caches are dropped on activate. */
const CACHE = 'provenant-dock-v2';

export const DOCK_SW_JS = `'use strict';
const CACHE = ${JSON.stringify(CACHE)};
const SHELL = ['/dock', '/dock/app.js', '/dock/app.css', '/dock/zxing_reader.wasm'];
self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  e.respondWith(
    fetch(e.request)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          e.waitUntil(caches.open(CACHE).then((c) => c.put(url.pathname, copy)));
        }
        return res;
      })
      .catch(() => caches.match(url.pathname).then((r) => r || Response.error())),
  );
});
`;
