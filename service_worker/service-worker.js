/*
 * Service worker for Rask psykisk helsehjelp (rph-pwa).
 *
 * Hand-written on purpose: no libraries, no build step. Flask serves this
 * file at /service-worker.js (so its scope is the whole site, "/") and
 * replaces the literal placeholder __VERSION__ below with a content hash.
 * Any change to the app's static files therefore yields a new VERSION, a
 * new service worker and fresh caches.
 *
 * PRIVACY FIRST. This is a health service. Pages behind login can contain
 * health information (referral answers, appointments, messages), and a
 * phone or shared family tablet may be used by more than one person.
 * Therefore this worker only ever stores:
 *   - public static assets (CSS, JS, icons, manifest), and
 *   - two public, anonymous pages: "/offline" and "/hjelp" (crisis/help
 *     information that must stay reachable even without a network).
 * No other page, API response or form result is ever written to the Cache
 * Storage. Everything else goes straight to the network, and if the
 * network is down the user gets the generic offline page instead of a
 * possibly stale (and possibly someone else's) copy.
 */

"use strict";

const VERSION = "__VERSION__";

const STATIC_CACHE = `rph-static-${VERSION}`;
const PAGES_CACHE = `rph-pages-${VERSION}`;

// Per-user offline data. The only personal page kept on the device is the
// resident's own safety plan (it must work with no signal). These caches are
// wiped when the user signs out (see the "message" handler below), and kept
// across worker updates (a new app version must not take the plan away).
const USER_CACHE_PREFIX = "rph-user-";
const PLAN_CACHE = `${USER_CACHE_PREFIX}safety-plan`;
const PLAN_URL = "/me/safety-plan";

const OFFLINE_URL = "/offline";
const HELP_URL = "/hjelp";

// Public pages that may be cached and served when offline.
const PRECACHE_PAGES = [OFFLINE_URL, HELP_URL];

// Public static assets used by every page.
const PRECACHE_STATIC = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/passkeys.js",
  "/static/manifest.webmanifest",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/maskable-192.png",
  "/static/icons/maskable-512.png",
  "/static/icons/apple-touch-icon.png",
  "/static/icons/favicon.svg",
  "/static/icons/shortcut-help.png",
  "/static/icons/shortcut-login.png",
];

/*
 * Build the request used for precaching.
 *  - cache: "reload" bypasses the browser's HTTP cache so that a new
 *    VERSION really stores the new files.
 *  - credentials: "omit" sends no cookies. The cached copies of /hjelp and
 *    /offline are thus always the anonymous versions of those pages, even
 *    if the worker is installed while someone is signed in: no name,
 *    no session-specific content ends up on the device.
 */
function precacheRequest(url) {
  return new Request(url, { cache: "reload", credentials: "omit" });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all([
      caches
        .open(STATIC_CACHE)
        .then((cache) => cache.addAll(PRECACHE_STATIC.map(precacheRequest))),
      caches
        .open(PAGES_CACHE)
        .then((cache) => cache.addAll(PRECACHE_PAGES.map(precacheRequest))),
    ]).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Remove every cache of ours that does not belong to this version. This
  // includes any "rph-user-" cache: after an update nothing personal from
  // an older version is left behind. Caches not starting with "rph-" are
  // not ours and are left alone.
  const keep = new Set([STATIC_CACHE, PAGES_CACHE]);
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter(
              (name) =>
                name.startsWith("rph-") &&
                !name.startsWith(USER_CACHE_PREFIX) &&
                !keep.has(name)
            )
            .map((name) => caches.delete(name))
        )
      )
      .then(() => self.clients.claim())
  );
});

/*
 * Static assets: cache first, then network. A network response is only
 * stored if it is OK and is one of the precached files (e.g. the cache was
 * evicted by the browser). We never grow the cache with arbitrary URLs.
 */
async function handleStatic(request, url) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (
    response.ok &&
    url.search === "" &&
    PRECACHE_STATIC.includes(url.pathname)
  ) {
    // Store a copy; the original goes to the page.
    await cache.put(request, response.clone());
  }
  return response;
}

/*
 * Navigations (the user opens a page): network first, always. Successful
 * responses are handed to the page and NOT stored, because a page may
 * contain health data. Only when the network fails do we fall back:
 *   - /hjelp and /offline: serve their (anonymous) precached copy;
 *   - anything else: serve the generic offline page.
 */
/*
 * The safety plan: network first, so a newer version always replaces the
 * offline copy; the copy is served only when there is no network. A redirect
 * (signed out) removes the copy, so a signed-out device never shows a plan.
 */
async function handlePlan(request) {
  const cache = await caches.open(PLAN_CACHE);
  try {
    const response = await fetch(request);
    const finalPath = new URL(response.url).pathname;
    if (response.ok && !response.redirected && finalPath === PLAN_URL) {
      await cache.put(PLAN_URL, response.clone());
    } else {
      await caches.delete(PLAN_CACHE);
    }
    return response;
  } catch (error) {
    const copy = await cache.match(PLAN_URL);
    if (copy) {
      return copy;
    }
    return handleNavigation(request, new URL(request.url));
  }
}

async function handleNavigation(request, url) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(PAGES_CACHE);
    if (PRECACHE_PAGES.includes(url.pathname)) {
      const page = await cache.match(url.pathname);
      if (page) {
        return page;
      }
    }
    const offline = await cache.match(OFFLINE_URL);
    if (offline) {
      return offline;
    }
    // Nothing cached (should not happen after a successful install).
    return new Response("Du er frakoblet. / You are offline.", {
      status: 503,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;

  // Only GET requests to our own origin. POSTs (forms, sign-in, API
  // calls) and third-party requests are left entirely to the browser.
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }

  if (request.mode === "navigate" && url.pathname === PLAN_URL) {
    event.respondWith(handlePlan(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(handleNavigation(request, url));
    return;
  }

  if (url.pathname.startsWith("/static/")) {
    event.respondWith(handleStatic(request, url));
    return;
  }

  // Everything else (API calls, /manifest.webmanifest, ...): not handled,
  // so it goes to the network as if there were no service worker, and is
  // never cached here.
});

/*
 * The page posts {type: "signed-out"} right after the user signs out.
 * Delete any per-user offline data so that the next person using this
 * device cannot see it. No reply is sent.
 */
self.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || data.type !== "signed-out") {
    return;
  }
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith(USER_CACHE_PREFIX))
            .map((name) => caches.delete(name))
        )
      )
  );
});
