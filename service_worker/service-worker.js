/*
 * Service worker for Rask psykisk helsehjelp (rph-pwa).
 *
 * Hand-written on purpose: no libraries, no build step. Flask serves this
 * file at /service-worker.js (rph_pwa/public/worker.py), so its scope is the
 * whole site, "/", and replaces the CONFIG line below with:
 *   version  a hash of this file, the precached static files, the templates
 *            of the precached pages and the translation catalogs. A deploy
 *            that changes any of them gives a new worker and fresh caches.
 *   static   the URLs of the precached static files (CSS, JS, icons,
 *            manifest), built with url_for from one Python list.
 *   pages    the URLs of the two public, anonymous pages kept offline:
 *            the offline page and the crisis help page (/hjelp).
 *   offline  the offline page's URL, shown when a page cannot be fetched.
 *   plan     the resident's safety plan's URL (/me/safety-plan).
 *   home     the resident's pages' start (/me): visiting any page under it
 *            refreshes the contact card.
 *   card     the resident's contact card's URL (/me/contact-card): the
 *            team's name and phone number, as JSON, for the offline page.
 *
 * PRIVACY FIRST. This is a health service. Pages behind sign-in contain
 * health information (referral answers, appointments, messages) and a
 * phone or a shared family tablet may be used by more than one person.
 * What this worker stores on the device:
 *   - the precached static files and the two public pages, fetched without
 *     cookies, so they are always the anonymous versions;
 *   - ONE personal page: the signed-in resident's own safety plan, so that
 *     it opens with no signal (also after the phone restarts). It lives in
 *     its own cache, rph-user-safety-plan, replaced each time the plan is
 *     fetched online, deleted when the plan's URL answers with a redirect
 *     (nobody signed in) and deleted when the person signs out.
 *   - the resident's contact card: their team's name and phone number, no
 *     health information. In rph-user-contact-card, fetched again whenever
 *     the resident opens one of their pages (/me...), deleted when it
 *     answers with anything but the card (nobody signed in, or staff) and
 *     when the person signs out. The offline page (static/js/offline.js)
 *     reads it and the plan's copy from these caches to show the team's
 *     phone and a link to the plan.
 * What it never stores: any other page (the resident's home, forms and
 * their answers, appointments, messages, the staff pages), any answer to a
 * POST, any other API response, any third-party request. Those go straight
 * to the network; with no network a page gets the generic offline page, never
 * a stale (and possibly someone else's) copy. Form answers kept while
 * offline are in localStorage (static/js/form-drafts.js), not here.
 *
 * SIGN-OUT. The page shown after signing out (/signed-out, static/js/app.js)
 * posts {type: "signed-out"} with a MessageChannel port. This worker deletes
 * every rph-user- cache and then answers on that port with
 * {type: "signed-out", cleared: true}, so the page (and the tests) know the
 * device holds nothing personal any more.
 */

"use strict";

const CONFIG = __CONFIG__;

const VERSION = CONFIG.version;
const STATIC_CACHE = `rph-static-${VERSION}`;
const PAGES_CACHE = `rph-pages-${VERSION}`;

// Per-user offline data: the safety plan and the contact card. Kept across
// worker updates (a new app version must not take the plan away offline);
// deleted on sign-out (see the "message" handler below). The names are also
// in static/js/offline.js, which reads these caches.
const USER_CACHE_PREFIX = "rph-user-";
const PLAN_CACHE = `${USER_CACHE_PREFIX}safety-plan`;
const CARD_CACHE = `${USER_CACHE_PREFIX}contact-card`;

/*
 * The request used for precaching.
 *  - cache: "reload" bypasses the browser's HTTP cache, so a new version
 *    really stores the new files.
 *  - credentials: "omit" sends no cookies: the copies of the public pages
 *    are the anonymous versions, even if the worker is installed while
 *    someone is signed in (no name, nothing from a session on the device).
 */
function precacheRequest(url) {
  return new Request(url, { cache: "reload", credentials: "omit" });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all([
      caches
        .open(STATIC_CACHE)
        .then((cache) => cache.addAll(CONFIG.static.map(precacheRequest))),
      caches
        .open(PAGES_CACHE)
        .then((cache) => cache.addAll(CONFIG.pages.map(precacheRequest))),
    ]).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Remove every cache of ours ("rph-") from an older version. The
  // "rph-user-" caches are kept: they do not depend on the version, and
  // sign-out removes them. Caches not starting with "rph-" are not ours.
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
 * The precached static files: cache first, then network (say the browser
 * evicted the cache), storing an OK answer again. Other static files (the
 * scripts of single pages) are not handled: the network, never the cache.
 */
async function handleStatic(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

/*
 * Navigations (the user opens a page): network first, always, and the
 * answer is NOT stored, because a page may hold health data. Only when the
 * network fails:
 *   - the public pages: their anonymous precached copy;
 *   - anything else: the generic offline page.
 */
async function handleNavigation(request, url) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(PAGES_CACHE);
    if (CONFIG.pages.includes(url.pathname)) {
      const page = await cache.match(url.pathname);
      if (page) {
        return page;
      }
    }
    const offline = await cache.match(CONFIG.offline);
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

/*
 * The safety plan: network first, so a newer plan always replaces the
 * offline copy; the copy is served only when there is no network. Any
 * other answer (a redirect to sign-in: nobody signed in) deletes the copy,
 * so a signed-out device never shows a plan.
 */
async function handlePlan(request) {
  const cache = await caches.open(PLAN_CACHE);
  try {
    const response = await fetch(request);
    const finalPath = new URL(response.url).pathname;
    if (response.ok && !response.redirected && finalPath === CONFIG.plan) {
      await cache.put(CONFIG.plan, response.clone());
    } else {
      await caches.delete(PLAN_CACHE);
    }
    return response;
  } catch (error) {
    const copy = await cache.match(CONFIG.plan);
    if (copy) {
      return copy;
    }
    return handleNavigation(request, new URL(request.url));
  }
}

/*
 * The contact card (team name and phone): fetched with the person's cookies
 * after they open one of their pages, and kept only if the answer is the
 * card itself. A redirect (nobody signed in) or a refusal (staff) deletes
 * it; no network keeps the copy there is.
 */
async function refreshCard() {
  let response;
  try {
    response = await fetch(CONFIG.card, {
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    return;
  }
  const finalPath = new URL(response.url).pathname;
  if (response.ok && !response.redirected && finalPath === CONFIG.card) {
    const cache = await caches.open(CARD_CACHE);
    await cache.put(CONFIG.card, response);
  } else {
    await caches.delete(CARD_CACHE);
  }
}

/* Is `path` one of the resident's own pages (/me or below)? */
function isResidentPage(path) {
  return path === CONFIG.home || path.startsWith(`${CONFIG.home}/`);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;

  // Only GET requests to our own origin. POSTs (forms, sign-in, drafts)
  // and third-party requests are left entirely to the browser.
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }

  if (request.mode === "navigate") {
    const answer = url.pathname === CONFIG.plan
      ? handlePlan(request)
      : handleNavigation(request, url);
    event.respondWith(answer);
    if (isResidentPage(url.pathname)) {
      // So the offline page knows the team. Only after the page has
      // answered: its cookies are stored by then, and the card's request
      // carries the same session as the page's forms.
      event.waitUntil(answer.then(refreshCard, refreshCard));
    }
    return;
  }
  if (CONFIG.static.includes(url.pathname + url.search)) {
    event.respondWith(handleStatic(request));
    return;
  }

  // Everything else (fetch() calls, other static files, ...): not
  // handled, so it goes to the network as if there were no service worker,
  // and is never cached here.
});

/* Delete every per-user cache ("rph-user-"). */
async function clearUserCaches() {
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((name) => name.startsWith(USER_CACHE_PREFIX))
      .map((name) => caches.delete(name))
  );
}

/*
 * Sign-out: the page posts {type: "signed-out"} with a MessageChannel port
 * (or without one, from an older page). Delete the per-user caches, then
 * answer {type: "signed-out", cleared: true|false} on the port, or to the
 * page that asked, so it can wait for the answer.
 */
self.addEventListener("message", (event) => {
  const data = event.data;
  if (!data || data.type !== "signed-out") {
    return;
  }
  const reply = (cleared) => {
    const answer = { type: "signed-out", cleared: cleared };
    if (event.ports && event.ports[0]) {
      event.ports[0].postMessage(answer);
    } else if (event.source) {
      event.source.postMessage(answer);
    }
  };
  event.waitUntil(
    clearUserCaches().then(
      () => reply(true),
      () => reply(false)
    )
  );
});
