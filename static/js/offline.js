/*
 * rph-pwa: the offline page's personal part, read from this device only.
 *
 * The offline page is stored by the service worker without cookies, so it
 * is the same for everyone. What belongs to the person signed in on this
 * device is in the worker's per-user caches (service_worker/
 * service-worker.js), which sign-out deletes:
 *   - rph-user-safety-plan: their saved safety plan. If it is there, the
 *     section with the link to it is shown (the worker opens the copy
 *     offline);
 *   - rph-user-contact-card: their team's name and phone number (JSON). If
 *     there is a phone number, the team's section is shown with it as a
 *     tel: link.
 * The URLs come from the page: the element with [data-offline-saved] has
 * data-plan-url and data-card-url. Text is set with textContent only. When
 * both are looked up, that element gets data-offline-checked="yes" (for the
 * tests: the page shows all it will).
 * Without this script (or without these caches) the page shows crisis help
 * only, which it always does.
 */
(function () {
  "use strict";

  var PLAN_CACHE = "rph-user-safety-plan";
  var CARD_CACHE = "rph-user-contact-card";

  var root = document.querySelector("[data-offline-saved]");
  if (!root || !window.caches) {
    return;
  }

  // caches.match with a cacheName never creates the cache (caches.open would).
  function saved(url, cacheName) {
    return window.caches.match(url, { cacheName: cacheName }).catch(function () {
      return undefined;
    });
  }

  var planSection = document.getElementById("offline-plan");
  var plan = saved(root.getAttribute("data-plan-url"), PLAN_CACHE).then(function (plan) {
    if (plan && planSection) {
      planSection.hidden = false;
    }
  });

  var teamSection = document.getElementById("offline-team");
  var team = saved(root.getAttribute("data-card-url"), CARD_CACHE)
    .then(function (card) {
      return card ? card.json() : null;
    })
    .then(function (card) {
      if (!card || !card.phone || !card.tel || !teamSection) {
        return;
      }
      var name = teamSection.querySelector("[data-team-name]");
      var phone = teamSection.querySelector("[data-team-phone]");
      if (name) {
        name.textContent = card.team || "";
      }
      if (phone) {
        phone.textContent = card.phone;
        phone.setAttribute("href", "tel:" + card.tel);
      }
      teamSection.hidden = false;
    })
    .catch(function () {
      /* An unreadable card: show nothing personal. */
    });

  Promise.all([plan, team]).then(function () {
    root.setAttribute("data-offline-checked", "yes");
  });
})();
