// kubesim's service worker: once the page has loaded, it works offline.
//
// The page has no backend: everything it needs is the files beside it (the
// page, its wasm and JavaScript, its style, the API schema for `kubectl
// explain` and the lessons). This worker keeps a copy of each, so a reload,
// a share link or a lesson opens without a network.
//
// - Trunk names the wasm, JavaScript and style after a hash of their
//   content: those never change, so they come from the cache first.
// - Everything else (the page itself, the schema, the lessons) comes from
//   the network first, so a new version is seen at once, and from the cache
//   when the network fails.
// - On install it fetches the page and what it names, and the lessons the
//   index lists, so even a lesson never opened is there offline.

const CACHE = 'kubesim';
const HASHED = /-[0-9a-f]{16}(_bg)?\.(js|wasm|css)$/;

// The cache key of a request: the page under its path without the query
// (`?embed=1`, `?scenario=...`) or the fragment (`#run=...`).
function key(request) {
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  return url.href;
}

async function store(cache, url) {
  try {
    // The hashed files from the browser's cache if it has them; the rest
    // checked with the server.
    const response = await fetch(url, HASHED.test(url) ? {} : { cache: 'no-cache' });
    if (response.ok) await cache.put(new URL(url, self.registration.scope).href, response.clone());
    return response;
  } catch (_) {
    return null;
  }
}

async function precache() {
  const cache = await caches.open(CACHE);
  const page = await store(cache, './');
  const files = new Set(['explain.json', 'favicon.svg', 'scenarios/index.yaml']);
  if (page) {
    const html = await page.text();
    for (const m of html.matchAll(/(?:href|src|from|module_or_path:)\s*=?\s*["']\.?\/?([^"':]+\.(?:js|wasm|css|svg|json))["']/g)) {
      files.add(m[1]);
    }
  }
  const index = await store(cache, 'scenarios/index.yaml');
  if (index) {
    for (const m of (await index.text()).matchAll(/^\s*-\s*name:\s*([a-z0-9-]+)\s*$/gm)) {
      files.add(`scenarios/${m[1]}.yaml`);
    }
  }
  files.delete('scenarios/index.yaml');
  await Promise.all([...files].map((f) => store(cache, f)));
  // Forget what older versions of the page named (other hashes).
  const wanted = new Set([...files].map((f) => new URL(f, self.registration.scope).href));
  for (const request of await cache.keys()) {
    if (HASHED.test(new URL(request.url).pathname) && !wanted.has(request.url)) {
      await cache.delete(request);
    }
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const k = key(request);
    if (HASHED.test(new URL(k).pathname)) {
      const cached = await cache.match(k);
      if (cached) return cached;
    }
    try {
      const response = await fetch(request);
      if (response.ok) await cache.put(k, response.clone());
      return response;
    } catch (error) {
      const cached = await cache.match(k);
      if (cached) return cached;
      throw error;
    }
  })());
});
