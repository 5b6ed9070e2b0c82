/*
 * Self-help: what is typed in a worksheet, the self-help plan or the weekly check-in is never lost.
 *
 * Uses the device storage of static/js/form-drafts.js (window.RphDrafts: one storage prefix, the
 * signed-in person's opaque owner key, another person's entries removed, everything removed at
 * sign-out). Without it (no storage, no script) the forms are plain forms.
 *
 * Worksheets (form[data-worksheet]):
 *  - every keystroke is written at once to localStorage under the page's opaque key
 *    (data-draft-key, derived by the server from the person and the worksheet's random
 *    client_key), with the client_key, and sent as JSON to the save endpoint shortly after typing
 *    stops, on `online`, when the page is hidden and on the next page load. The server stores a
 *    client_key once, so a save sent twice changes one worksheet. The entry is removed once stored.
 *  - reopening the page (also offline, from the service worker's copy) restores what was kept. A
 *    new, empty worksheet page takes over a new worksheet of its kind not yet stored, so a reload
 *    continues it instead of starting another.
 *  - once a new worksheet is stored, the address becomes the worksheet's own page, which the
 *    service worker is asked to keep for offline use.
 *  - saving with the button while offline keeps the answers here instead of failing.
 *
 * Check-in (form[data-check-in]): kept on the device only (the check-in is sent once, by the
 * person), restored after a reload or a failed send, removed when the confirmation page shows.
 * Ticking "I need to talk to someone sooner" shows the crisis help at once.
 *
 * No inline script or style (strict CSP); only the `hidden` attribute is toggled.
 */
(function () {
  "use strict";

  var SEND_AFTER_MS = 700;
  var SKIP = { csrf_token: true, kind: true, client_key: true, appointment: true };

  function setStatus(status, text) {
    if (status) {
      status.textContent = text || "";
      status.hidden = !text;
    }
  }

  function restoreValues(form, values) {
    Object.keys(values).forEach(function (name) {
      if (SKIP[name]) {
        return;
      }
      var value = String(values[name]);
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.name !== name) {
          return;
        }
        if (input.type === "radio") {
          input.checked = input.value === value;
        } else if (input.type === "checkbox") {
          input.checked = value === input.value || value === "true";
        } else if ("value" in input && input.type !== "hidden" && input.type !== "submit") {
          input.value = value;
        }
      });
    });
  }

  function formValues(form) {
    var values = {};
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name] && typeof value === "string") {
        values[name] = value;
      }
    });
    return values;
  }

  function keepPageOffline(url) {
    var sw = navigator.serviceWorker;
    if (sw && sw.controller) {
      sw.controller.postMessage({ type: "keep-page", url: url });
    }
  }

  /* ---- Worksheets ------------------------------------------------------------------------ */

  function setUpWorksheet(drafts, form) {
    var kind = Number(form.getAttribute("data-kind"));
    var keyInput = form.elements.namedItem("client_key");
    var isNew = form.getAttribute("data-new") === "true";
    var storageKey = drafts.prefix + form.getAttribute("data-draft-key");
    var url = new URL(form.action, window.location.href).pathname;
    var status = form.querySelector("[data-worksheet-status]");
    var timer = null;
    var saved = drafts.read(storageKey);

    if (isNew && !saved) {
      // A new worksheet of this kind begun here and not stored yet: continue it.
      var newest = null;
      drafts.keys().forEach(function (key) {
        var entry = drafts.read(key);
        if (entry && entry.fresh === true && entry.kind === kind && (!newest || entry.savedAt > newest.entry.savedAt)) {
          newest = { key: key, entry: entry };
        }
      });
      if (newest) {
        storageKey = newest.key;
        keyInput.value = newest.entry.client_key;
        saved = newest.entry;
      }
    }
    if (saved && saved.owner === drafts.owner && saved.format === "json") {
      restoreValues(form, saved.answers);
    }

    function showOffline() {
      if (!navigator.onLine && drafts.read(storageKey)) {
        setStatus(status, status && status.getAttribute("data-offline-text"));
      }
    }

    function sendNow() {
      window.clearTimeout(timer);
      drafts.deliver(storageKey).then(function (result) {
        var data = result.data;
        if (data && data.status === "saved") {
          if (isNew && typeof data.url === "string") {
            isNew = false;
            window.history.replaceState(null, "", data.url);
            keepPageOffline(data.url);
          }
          if (!drafts.read(storageKey)) {
            setStatus(status, status && status.getAttribute("data-saved-text"));
          }
        }
        showOffline();
      });
    }

    function keep() {
      drafts.write(storageKey, {
        owner: drafts.owner, url: url, format: "json", kind: kind, client_key: keyInput.value,
        answers: formValues(form), savedAt: Date.now(), fresh: isNew,
      });
      window.clearTimeout(timer);
      if (navigator.onLine) {
        timer = window.setTimeout(sendNow, SEND_AFTER_MS);
      } else {
        showOffline();
      }
    }

    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    form.addEventListener("submit", function (event) {
      if (!navigator.onLine) {
        event.preventDefault(); // no connection: keep it here, send it when back online
        keep();
        showOffline();
      }
    });
    function flush() {
      if (drafts.read(storageKey) && navigator.onLine) {
        sendNow();
      }
    }
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        flush();
      }
    });
    window.addEventListener("online", flush);
    window.addEventListener("offline", showOffline);
    if (saved && navigator.onLine) {
      sendNow();
    }
    showOffline();
  }

  /* ---- The weekly check-in ---------------------------------------------------------------- */

  function setUpCheckIn(drafts, form) {
    var storageKey = drafts.prefix + form.getAttribute("data-draft-key");
    var status = form.querySelector("[data-worksheet-status]");
    var saved = drafts.read(storageKey);
    if (saved && saved.owner === drafts.owner && saved.url === null) {
      restoreValues(form, saved.answers);
      var panel = document.getElementById("crisis-panel");
      var ticked = form.querySelector("input[data-shows-crisis-help]");
      if (panel && ticked && ticked.checked) {
        panel.hidden = false;
      }
    }

    function keep() {
      var values = formValues(form);
      var box = form.querySelector("input[type=checkbox]");
      if (box) {
        values[box.name] = box.checked ? "true" : "false";
      }
      drafts.write(storageKey, { owner: drafts.owner, url: null, answers: values, savedAt: Date.now() });
    }
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    form.addEventListener("submit", function (event) {
      keep();
      if (!navigator.onLine) {
        event.preventDefault();
        setStatus(status, status && status.getAttribute("data-offline-text"));
      }
    });
    window.addEventListener("online", function () {
      setStatus(status, "");
    });
  }

  function setUpCrisisHelp() {
    var panel = document.getElementById("crisis-panel");
    Array.prototype.forEach.call(document.querySelectorAll("input[data-shows-crisis-help]"), function (box) {
      box.addEventListener("change", function () {
        if (panel && box.checked && panel.hidden) {
          panel.hidden = false;
          panel.scrollIntoView({ block: "start" });
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCrisisHelp();
    var drafts = window.RphDrafts;
    if (!drafts) {
      return; // no device storage: the forms work as plain forms
    }
    var worksheet = document.querySelector("form[data-worksheet]");
    if (worksheet) {
      setUpWorksheet(drafts, worksheet);
    }
    var checkIn = document.querySelector("form[data-check-in]");
    if (checkIn) {
      setUpCheckIn(drafts, checkIn);
    }
  });
})();
