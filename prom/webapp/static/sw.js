// The service worker: keeps the app shell on the device so that the app opens offline.
// It never touches the API (/api/...): answers go through the outbox, which handles being
// offline itself, and definitions and due lists are cached by the app.

const VERSION = "__ASSET_VERSION__";
const CACHE = `prom-app-${VERSION}`;
const SHELL = ["./", ...["app.css", "manifest.webmanifest", "icon.svg", "js/app.js", "js/api.js", "js/store.js",
                         "js/outbox.js", "js/render.js", "js/trend.js"].map((f) => `v/${VERSION}/${f}`)];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("prom-app-") && k !== CACHE)
                                    .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const scope = new URL(self.registration.scope).pathname;  // /app/
  if (url.pathname === scope) {
    // The page: the network first (a new release), the saved copy offline.
    event.respondWith(fetch(event.request).catch(() => caches.match("./")));
  } else if (url.pathname.startsWith(`${scope}v/${VERSION}/`)) {
    // Versioned assets never change under their URL.
    event.respondWith(caches.match(event.request).then((hit) => hit || fetch(event.request)));
  }
});
