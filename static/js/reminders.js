/*
 * rph-pwa: notifications on this device, on the reminders page (/me/reminders).
 *
 * Progressive enhancement: without this script the page still lets the
 * resident choose SMS or e-mail. The section [data-push] holds the VAPID
 * public key and the two URLs; its paragraphs [data-push-state=...] hold the
 * translated messages, and this script shows one of them (only the `hidden`
 * attribute is toggled: the CSP allows no inline styles).
 *
 * Turning on: ask for permission, subscribe with the push service
 * (userVisibleOnly, the VAPID key), then POST the subscription as JSON with
 * the page's CSRF token. When that fails (headless browsers refuse with
 * "Registration failed", permission denied, no PushManager) the page says so
 * and offers SMS or e-mail. On iPhone and iPad push works only in an app
 * added to the home screen, which the page explains.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-push]");
  if (!box || !box.getAttribute("data-vapid-key")) {
    return;
  }
  var onButton = box.querySelector("[data-push-on]");
  var offButton = box.querySelector("[data-push-off]");
  var alternative = box.querySelector("[data-push-alternative]");
  var READY_WAIT_MS = 10000;

  function show(state) {
    var states = box.querySelectorAll("[data-push-state]");
    for (var i = 0; i < states.length; i += 1) {
      states[i].hidden = states[i].getAttribute("data-push-state") !== state;
    }
    box.setAttribute("data-push-now", state);
    onButton.hidden = state !== "off" && state !== "failed";
    offButton.hidden = state !== "on";
    alternative.hidden = ["ios", "unsupported", "denied", "failed"].indexOf(state) < 0;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  // The VAPID key (base64url) as the bytes PushManager wants.
  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "====".slice(0, (4 - (base64.length % 4)) % 4);
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  // The service worker's registration, or a rejection after READY_WAIT_MS.
  function registration() {
    return Promise.race([
      navigator.serviceWorker.ready,
      new Promise(function (resolve, reject) {
        window.setTimeout(function () { reject(new Error("no service worker")); }, READY_WAIT_MS);
      }),
    ]);
  }

  function isIOS() {
    return /iPad|iPhone|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function isStandalone() {
    return navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  function turnOn() {
    show("working");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show("denied");
        return null;
      }
      return registration().then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-vapid-key")),
        });
      }).then(function (subscription) {
        return post(box.getAttribute("data-subscribe-url"), subscription.toJSON()).then(function () {
          show("on");
        }, function (error) {
          subscription.unsubscribe();
          throw error;
        });
      });
    }).catch(function () {
      show("failed");
    });
  }

  function turnOff() {
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) {
        return null;
      }
      return post(box.getAttribute("data-unsubscribe-url"), { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () {
      show("off");
    }, function () {
      show("failed");
    });
  }

  if (isIOS() && !isStandalone()) {
    show("ios");
    return;
  }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    show("unsupported");
    return;
  }
  if (Notification.permission === "denied") {
    show("denied");
    return;
  }
  onButton.addEventListener("click", turnOn);
  offButton.addEventListener("click", turnOff);
  show("checking");
  registration().then(function (reg) {
    return reg.pushManager.getSubscription();
  }).then(function (subscription) {
    show(subscription ? "on" : "off");
  }, function () {
    show("off");
  });
})();
