/*
 * Service worker for Rask psykisk helsehjelp (rph-pwa).
 *
 * Hand-written on purpose: no libraries, no build step. Flask serves this
 * file at /service-worker.js (rph_pwa/public/worker.py), so its scope is the
 * whole site, "/", and replaces the CONFIG line below with:
 *   version  a hash of this file, the precached static files, the templates
 *            of the precached pages and the static files they link, the
 *            manifest and its icons, and the translation catalogs. A deploy
 *            that changes any of them gives a new worker and fresh caches.
 *   static   the URLs of the static files offline use needs (the style
 *            sheet, the scripts of every page, the offline page and the
 *            self-help pages, the favicon and the notification icon), built
 *            with url_for from one Python list. They are fingerprinted (the
 *            content's hash in the name) and served as immutable, so the
 *            install takes them from the HTTP cache when the page has just
 *            loaded them. The manifest's large icons are not precached: the
 *            browser fetches those itself when the app is installed.
 *   pages    the URLs of the two public, anonymous pages kept offline:
 *            the offline page and the crisis help page (/hjelp).
 *   offline  the offline page's URL, shown when a page cannot be fetched.
 *   plan     the resident's safety plan's URL (/me/safety-plan).
 *   home     the resident's pages' start (/me): visiting any page under it
 *            refreshes the contact card.
 *   card     the resident's contact card's URL (/me/contact-card): the
 *            team's name and phone number, as JSON, for the offline page.
 *   selfhelp the resident's self-help pages' start (/me/selfhelp): those
 *            pages (and the pages below it) are kept offline.
 *   manifest the web app manifest as served (/manifest.webmanifest), with the
 *            installation's neutral name; precached in rph-manifest-<version>
 *            (the version changes with APP_NAME and APP_SHORT_NAME).
 *   ack      where to tell the server a push was shown (/push/ack).
 *   answer   where to send "Jeg kommer" from a notification (/push/answer).
 *
 * PRIVACY FIRST. This is a health service. Pages behind sign-in contain
 * health information (referral answers, appointments, messages) and a
 * phone or a shared family tablet may be used by more than one person.
 * What this worker stores on the device:
 *   - the precached static files (the same for everyone), the manifest and
 *     the two public pages, the pages fetched without cookies, so they are
 *     always the anonymous versions;
 *   - ONE personal page: the signed-in resident's own safety plan, so that
 *     it opens with no signal (also after the phone restarts). It lives in
 *     its own cache, rph-user-safety-plan, replaced each time the plan is
 *     fetched online, deleted when the plan's URL answers with a redirect
 *     (nobody signed in) and deleted when the person signs out.
 *   - the resident's self-help pages (/me/selfhelp and below: the
 *     programme, the modules, the worksheets and their forms, the self-help
 *     plan, the check-in), so a worksheet reopens with no signal and what
 *     was typed offline (kept in localStorage by static/js/worksheets.js)
 *     is restored and sent later. They hold health information, so they
 *     are treated like the safety plan: in their own cache,
 *     rph-user-selfhelp, network first (a newer page always replaces the
 *     copy), only a page that answered 200 for itself is kept (never a
 *     redirect: when a self-help page, or any resident page, is redirected
 *     away from /me the whole cache is deleted), and deleted when the person
 *     signs out. Each copy carries the opaque owner key of the person it
 *     was made for (the X-RPH-Owner header, an HMAC that names nobody);
 *     whenever a resident page answers for another owner, every copy of
 *     another owner is deleted, so the next person on a shared phone never
 *     gets the last person's pages.
 *   - the resident's contact card: their team's name and phone number, no
 *     health information. In rph-user-contact-card, fetched again whenever
 *     the resident opens one of their pages (/me...), deleted when it
 *     answers with anything but the card (nobody signed in, or staff) and
 *     when the person signs out. The offline page (static/js/offline.js)
 *     reads it and the plan's copy from these caches to show the team's
 *     phone and a link to the plan.
 * What it never stores: any other page (the resident's home, forms
 * before a contact and their answers, appointments, messages, the staff
 * pages), any answer to a POST, any other API response, any third-party
 * request. Those go straight
 * to the network; with no network a page gets the generic offline page, never
 * a stale (and possibly someone else's) copy. Form, worksheet and
 * check-in answers kept while offline are in localStorage
 * (static/js/form-drafts.js, static/js/worksheets.js), not here.
 *
 * NOTIFICATIONS (Web Push). A push carries only what a lock screen may show:
 * a title ("Du har en avtale", "Du har en ny melding"), the time, the URL of
 * our page to open, a random token, the neutral icon and, for an
 * appointment, the actions "Jeg kommer" / "Jeg må endre". Never the
 * service's name, a diagnosis or a score; the installed app's name and icon
 * (the manifest's, neutral) are what the lock screen shows as the sender.
 * Nothing from a push is stored here. After showing it, the worker posts the
 * token (and nothing else) to CONFIG.ack, so the server knows it arrived and
 * does not fall back to SMS or e-mail; "Jeg kommer" posts the token to
 * CONFIG.answer. Only URLs of our own origin are ever opened.
 *
 * SIGN-OUT. The page shown after signing out (/signed-out, static/js/app.js)
 * posts {type: "signed-out"} with a MessageChannel port. This worker deletes
 * every rph-user- cache, drops this device's push subscription (so the
 * next person on a shared phone gets none of the last person's
 * notifications), and then answers on that port with
 * {type: "signed-out", cleared: true}, so the page (and the tests) know the
 * device holds nothing personal any more.
 */

"use strict";

const CONFIG = __CONFIG__;

const VERSION = CONFIG.version;
const STATIC_CACHE = `rph-static-${VERSION}`;
const PAGES_CACHE = `rph-pages-${VERSION}`;
// The manifest as served (the installation's name): its version follows APP_NAME.
const MANIFEST_CACHE = `rph-manifest-${VERSION}`;

// Per-user offline data: the safety plan, the self-help pages and the contact card. Kept across
// worker updates (a new app version must not take the plan away offline);
// deleted on sign-out (see the "message" handler below). The names are also
// in static/js/offline.js, which reads these caches.
const USER_CACHE_PREFIX = "rph-user-";
const PLAN_CACHE = `${USER_CACHE_PREFIX}safety-plan`;
const CARD_CACHE = `${USER_CACHE_PREFIX}contact-card`;
const SELFHELP_CACHE = `${USER_CACHE_PREFIX}selfhelp`;
// The header naming whose page it is (an opaque key; see PRIVACY above).
const OWNER_HEADER = "X-RPH-Owner";

/*
 * The requests used for precaching.
 *  - Static files: their URLs are fingerprinted (the content's hash is in
 *    the name, rph_pwa/assets.py) and served as immutable for a year, so
 *    the browser's HTTP cache may answer: what the page just loaded (the
 *    style sheet, app.js) is not downloaded a second time, and a new version
 *    has new URLs, so it can never get an old file. With the page's own
 *    credentials mode, so they share the page's HTTP cache entries. (The
 *    notification icon's plain URL answers no-cache: checked, not trusted.)
 *  - The manifest: "no-cache", checked with its ETag (the page may have
 *    fetched it already), without cookies like the browser's own request.
 *  - The public pages: cache: "reload" bypasses the HTTP cache, so a new
 *    version really stores the new pages, and credentials: "omit" sends no
 *    cookies: the copies are the anonymous versions, even if the worker is
 *    installed while someone is signed in (no name, nothing from a session
 *    on the device).
 */
function staticRequest(url) {
  return new Request(url, { credentials: "same-origin" });
}

function manifestRequest(url) {
  return new Request(url, { cache: "no-cache", credentials: "omit" });
}

function pageRequest(url) {
  return new Request(url, { cache: "reload", credentials: "omit" });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all([
      caches
        .open(STATIC_CACHE)
        .then((cache) => cache.addAll(CONFIG.static.map(staticRequest))),
      caches
        .open(MANIFEST_CACHE)
        .then((cache) => cache.add(manifestRequest(CONFIG.manifest))),
      caches
        .open(PAGES_CACHE)
        .then((cache) => cache.addAll(CONFIG.pages.map(pageRequest))),
    ]).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  // Remove every cache of ours ("rph-") from an older version. The
  // "rph-user-" caches are kept: they do not depend on the version, and
  // sign-out removes them. Caches not starting with "rph-" are not ours.
  const keep = new Set([STATIC_CACHE, PAGES_CACHE, MANIFEST_CACHE]);
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
async function handleStatic(request, cacheName) {
  const cache = await caches.open(cacheName);
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

/* Is `path` one of the resident's self-help pages (/me/selfhelp or below)? */
function isSelfhelpPage(path) {
  return path === CONFIG.selfhelp || path.startsWith(`${CONFIG.selfhelp}/`);
}

/*
 * Keep a self-help page's answer if it is the page itself (200, not
 * redirected, the same path) and the person's own; delete the copy of a
 * page that now answers with anything else (gone, not found, signed out).
 */
async function keepSelfhelpPage(path, response) {
  const finalPath = new URL(response.url).pathname;
  if (response.redirected && !isResidentPage(finalPath)) {
    await caches.delete(SELFHELP_CACHE); // nobody signed in
    return;
  }
  const cache = await caches.open(SELFHELP_CACHE);
  if (response.ok && !response.redirected && finalPath === path && response.headers.get(OWNER_HEADER)) {
    await cache.put(path, response.clone());
  } else {
    await cache.delete(path);
  }
}

/*
 * A resident page answered for `owner`: delete every self-help copy made
 * for someone else. A redirect away from the resident's pages (nobody
 * signed in) deletes them all.
 */
async function dropOtherOwners(response) {
  if (!(await caches.has(SELFHELP_CACHE))) {
    return;
  }
  const finalPath = new URL(response.url).pathname;
  if (response.redirected && !isResidentPage(finalPath)) {
    await caches.delete(SELFHELP_CACHE);
    return;
  }
  const owner = response.headers.get(OWNER_HEADER);
  if (!owner) {
    return;
  }
  const cache = await caches.open(SELFHELP_CACHE);
  const requests = await cache.keys();
  await Promise.all(
    requests.map(async (request) => {
      const copy = await cache.match(request);
      if (!copy || copy.headers.get(OWNER_HEADER) !== owner) {
        await cache.delete(request);
      }
    })
  );
}

/*
 * A self-help page: network first, so a newer page always replaces the
 * offline copy; the copy is served only when there is no network. With no
 * copy, the generic offline page.
 */
async function handleSelfhelp(request, url) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cache = await caches.open(SELFHELP_CACHE);
    const copy = await cache.match(url.pathname);
    if (copy) {
      return copy;
    }
    return handleNavigation(request, url);
  }
  await dropOtherOwners(response);
  await keepSelfhelpPage(url.pathname, response);
  return response;
}

/* The page asks to keep a self-help page it moved to (a worksheet's own address once stored). */
async function fetchSelfhelpPage(path) {
  try {
    const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
    await dropOtherOwners(response);
    await keepSelfhelpPage(path, response);
  } catch (error) {
    /* offline: kept next time the page is opened */
  }
}

/* After a resident page answered: refresh the contact card, drop other people's copies. */
function afterResidentPage(response) {
  return Promise.all([refreshCard(), dropOtherOwners(response)]);
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
    let answer;
    if (url.pathname === CONFIG.plan) {
      answer = handlePlan(request);
    } else if (isSelfhelpPage(url.pathname)) {
      answer = handleSelfhelp(request, url);
    } else {
      answer = handleNavigation(request, url);
    }
    event.respondWith(answer);
    if (isResidentPage(url.pathname)) {
      // So the offline page knows the team. Only after the page has
      // answered: its cookies are stored by then, and the card's request
      // carries the same session as the page's forms.
      event.waitUntil(answer.then(afterResidentPage, refreshCard));
    }
    return;
  }
  if (CONFIG.static.includes(url.pathname + url.search)) {
    event.respondWith(handleStatic(request, STATIC_CACHE));
    return;
  }
  if (url.pathname + url.search === CONFIG.manifest) {
    event.respondWith(handleStatic(request, MANIFEST_CACHE));
    return;
  }

  // Everything else (fetch() calls, other static files, ...): not
  // handled, so it goes to the network as if there were no service worker,
  // and is never cached here.
});

/* ---- Notifications (Web Push) ---- */

/* `url` as an address of our own origin, or null (another origin, or not a URL). */
function ownUrl(url) {
  if (typeof url !== "string" || url === "") {
    return null;
  }
  try {
    const parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : null;
  } catch (error) {
    return null;
  }
}

/* POST {token, ...extra} as JSON to one of our endpoints; never rejects. */
function postToken(url, token, extra) {
  if (typeof token !== "string" || token === "") {
    return Promise.resolve();
  }
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ token: token }, extra || {})),
  }).then(
    () => undefined,
    () => undefined
  );
}

/* The payload as the scheduler sends it (JSON); a push without one shows a plain notice. */
function pushPayload(event) {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  return data && typeof data === "object" ? data : {};
}

async function showPush(data) {
  const text = (value) => (typeof value === "string" ? value : "");
  const actions = Array.isArray(data.actions)
    ? data.actions
        .filter((a) => a && typeof a.action === "string" && typeof a.title === "string")
        .slice(0, 2)
        .map((a) => ({ action: a.action, title: a.title }))
    : [];
  const options = {
    body: text(data.body),
    tag: text(data.tag) || undefined,
    icon: ownUrl(data.icon) || undefined,
    data: {
      url: ownUrl(data.url) || CONFIG.home,
      change_url: ownUrl(data.change_url),
      token: text(data.token),
    },
    actions: actions,
  };
  await self.registration.showNotification(text(data.title) || "Du har en ny melding", options);
  await postToken(CONFIG.ack, options.data.token);
}

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(pushPayload(event)));
});

/* Focus a window of ours (opening `url` in it), or open a new one. */
async function openOwnWindow(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (ours) {
    const focused = await ours.focus();
    if (focused && "navigate" in focused && focused.url !== url) {
      return focused.navigate(url).catch(() => focused);
    }
    return focused;
  }
  return self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  const data = notification.data || {};
  notification.close();
  if (event.action === "coming") {
    event.waitUntil(postToken(CONFIG.answer, data.token, { answer: "coming" }));
    return;
  }
  const target = ownUrl(event.action === "change" ? data.change_url : data.url);
  if (target) {
    event.waitUntil(openOwnWindow(target));
  }
});

/* Delete every per-user cache ("rph-user-"). */
async function clearUserCaches() {
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((name) => name.startsWith(USER_CACHE_PREFIX))
      .map((name) => caches.delete(name))
  );
  await dropPushSubscription();
}

// This device stops getting the signed-out person's notifications: the push
// service then answers the server 410 Gone, and the server forgets the
// subscription (the next reminder goes by SMS or e-mail). Failing to
// unsubscribe must not stop the caches from being cleared.
async function dropPushSubscription() {
  try {
    const subscription = self.registration.pushManager
      ? await self.registration.pushManager.getSubscription()
      : null;
    if (subscription) {
      await subscription.unsubscribe();
    }
  } catch (e) {
    /* nothing to drop, or the browser refused: the caches are what matters */
  }
}

/*
 * Sign-out: the page posts {type: "signed-out"} with a MessageChannel port
 * (or without one, from an older page). Delete the per-user caches, then
 * answer {type: "signed-out", cleared: true|false} on the port, or to the
 * page that asked, so it can wait for the answer.
 */
self.addEventListener("message", (event) => {
  const data = event.data;
  if (data && data.type === "keep-page" && typeof data.url === "string") {
    const url = new URL(data.url, self.location.origin);
    if (url.origin === self.location.origin && isSelfhelpPage(url.pathname)) {
      event.waitUntil(fetchSelfhelpPage(url.pathname));
    }
    return;
  }
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
