/*
 * Forms before a contact: keep a draft as the person answers.
 *
 * Loaded on every page of a signed-in resident (templates/client/_form_drafts.html). Without
 * this script the form works as before: a post that is not complete is kept as a draft.
 *
 *  - Every answer is written at once to localStorage under "rph-draft:<opaque key>" (the server
 *    derives the key from the person and the form; it names neither), and sent to the server's
 *    draft endpoint. Leaving the page sends it with navigator.sendBeacon.
 *  - Offline, the answers stay on the device and are sent on the `online` event or on the next
 *    page load. An entry is removed once the server has it (or the form is sent or closed).
 *  - Each entry carries the signed-in person's opaque owner key. An entry of anyone else is never
 *    restored or sent, and is removed as soon as another resident is signed in here.
 *  - Signing out with unsent answers sends them first; if that fails, a dialog says what would
 *    be lost and lets the person choose. The signed-out page removes every entry (app.js).
 *  - The same storage serves the self-help pages (static/js/worksheets.js, through
 *    `window.RphDrafts`): a worksheet's entry is sent as JSON to the worksheet save endpoint
 *    (format "json"); a check-in's entry has no URL and stays on the device until the check-in
 *    is sent (the confirmation page names it with data-draft-done) or the person signs out.
 *
 * No inline script or style (strict CSP); only the `hidden` attribute is toggled.
 */
(function () {
  "use strict";

  var PREFIX = "rph-draft:";
  // Where an entry may be sent: the forms' draft endpoints and the worksheets' save endpoint.
  var SEND_TO = ["/me/forms/", "/me/selfhelp/worksheets/save"];
  var root = document.getElementById("form-drafts");
  var owner = root ? root.getAttribute("data-owner") : "";
  var meta = document.querySelector("meta[name=csrf-token]");
  var csrf = meta ? meta.getAttribute("content") : "";
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(PREFIX);
  } catch (e) {
    store = null; // storage refused (private mode, settings): the server draft still works
  }
  if (!root || !owner || !store) {
    return;
  }

  function allKeys() {
    var keys = [];
    for (var i = 0; i < store.length; i += 1) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        keys.push(key);
      }
    }
    return keys;
  }

  function read(key) {
    try {
      var entry = JSON.parse(store.getItem(key) || "null");
      return entry && typeof entry === "object" && entry.answers && typeof entry.answers === "object" ? entry : null;
    } catch (e) {
      return null;
    }
  }

  function remove(key) {
    try {
      store.removeItem(key);
    } catch (e) {
      /* nothing to do */
    }
  }

  function write(key, entry) {
    try {
      store.setItem(key, JSON.stringify(entry));
    } catch (e) {
      /* storage full: the server copy is all we have */
    }
  }

  // Another person's answers are never shown here: remove them before anything else runs.
  allKeys().forEach(function (key) {
    var entry = read(key);
    if (!entry || entry.owner !== owner) {
      remove(key);
    }
  });

  function pendingKeys() {
    return allKeys().filter(function (key) {
      var entry = read(key);
      return entry && entry.owner === owner;
    });
  }

  function body(entry) {
    var params = new URLSearchParams();
    params.append("csrf_token", csrf);
    entry.answers.forEach(function (pair) {
      params.append(String(pair[0]), String(pair[1]));
    });
    return params;
  }

  function sendable(url) {
    return typeof url === "string" && SEND_TO.some(function (start) {
      return url.indexOf(start) === 0;
    });
  }

  function request(entry) {
    if (entry.format === "json") {
      return {
        body: JSON.stringify({ kind: entry.kind, client_key: entry.client_key, answers: entry.answers, partial: true }),
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
      };
    }
    return { body: body(entry), headers: { Accept: "application/json" } };
  }

  // Resolves {done, data}: done when the server has the answers (or no longer wants them: sent
  // or closed), or when the entry is kept on this device only (nothing to send); data is the
  // server's JSON answer to a stored worksheet.
  function deliver(key) {
    var entry = read(key);
    if (entry && entry.owner === owner && entry.url === null) {
      return Promise.resolve({ done: true, data: null });
    }
    if (!entry || entry.owner !== owner || !csrf || !sendable(entry.url)) {
      return Promise.resolve({ done: false, data: null });
    }
    var options = request(entry);
    return fetch(entry.url, {
      method: "POST",
      body: options.body,
      credentials: "same-origin",
      redirect: "manual", // a signed-out session answers with a redirect: not saved
      keepalive: true,
      headers: options.headers,
    }).then(
      function (response) {
        if (response.ok || response.status === 404 || response.status === 409) {
          var now = read(key);
          if (now && now.savedAt === entry.savedAt) {
            remove(key); // unless the person answered more meanwhile
          }
          if (response.ok && entry.format === "json") {
            return response.json().then(
              function (data) {
                return { done: true, data: data };
              },
              function () {
                return { done: true, data: null };
              }
            );
          }
          return { done: true, data: null };
        }
        return { done: false, data: null }; // kept here: offline, signed out or not valid yet
      },
      function () {
        return { done: false, data: null };
      }
    );
  }

  function send(key) {
    return deliver(key).then(function (result) {
      return result.done;
    });
  }

  function sendAll() {
    return Promise.all(pendingKeys().map(send)).then(function (results) {
      return results.every(Boolean);
    });
  }

  /* ---- The form page --------------------------------------------------------------------- */

  function restore(form, answers) {
    var byName = {};
    answers.forEach(function (pair) {
      (byName[pair[0]] = byName[pair[0]] || []).push(String(pair[1]));
    });
    Object.keys(byName).forEach(function (name) {
      var values = byName[name];
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.name !== name || name === "csrf_token") {
          return;
        }
        if (input.type === "radio" || input.type === "checkbox") {
          var checked = values.indexOf(input.value) !== -1;
          if (input.checked !== checked) {
            input.checked = checked;
            if (checked) {
              input.dispatchEvent(new Event("change", { bubbles: true })); // e.g. shows crisis help
            }
          }
        } else if ("value" in input && input.type !== "hidden" && input.type !== "submit") {
          input.value = values[0];
        }
      });
    });
  }

  function setUpForm(form) {
    var key = PREFIX + form.getAttribute("data-draft-key");
    var url = form.getAttribute("data-draft-url");
    var offlineNote = form.querySelector("[data-draft-offline]");
    var submitting = false;
    var timer = null;

    function showOffline() {
      if (offlineNote) {
        offlineNote.hidden = navigator.onLine || !read(key);
      }
    }

    function snapshot() {
      var answers = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrf_token" && typeof value === "string") {
          answers.push([name, value]);
        }
      });
      return { owner: owner, url: url, answers: answers, savedAt: Date.now() };
    }

    function sendNow() {
      send(key).then(showOffline);
    }

    function keep() {
      write(key, snapshot());
      window.clearTimeout(timer);
      if (navigator.onLine) {
        timer = window.setTimeout(sendNow, 500);
      }
      showOffline();
    }

    function flush() {
      if (submitting || !read(key)) {
        return;
      }
      var entry = read(key);
      if (navigator.sendBeacon && navigator.sendBeacon(entry.url, body(entry))) {
        return; // kept locally until a later send confirms it
      }
      send(key);
    }

    var saved = read(key);
    if (saved && saved.owner === owner) {
      restore(form, saved.answers); // newer than the server's copy: it has not reached it yet
    }
    form.addEventListener("change", keep);
    form.addEventListener("input", function (event) {
      if (event.target && event.target.type !== "radio" && event.target.type !== "checkbox") {
        keep();
      }
    });
    form.addEventListener("submit", function () {
      submitting = true; // the post itself carries the answers
      window.setTimeout(function () {
        submitting = false;
      }, 5000);
    });
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        flush();
      }
    });
    window.addEventListener("offline", showOffline);
    window.addEventListener("online", showOffline);
    showOffline();
  }

  /* ---- Signing out with answers not yet sent ---------------------------------------------- */

  var dialog = document.getElementById("draft-signout");
  var logoutUrl = root.getAttribute("data-logout-url");
  var pendingSignOut = null;

  function clearAll() {
    allKeys().forEach(remove);
  }

  function signOut(form) {
    form.setAttribute("data-drafts-checked", "true");
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function closeDialog() {
    if (dialog && dialog.open) {
      dialog.close();
    }
  }

  function askBeforeSignOut(form) {
    pendingSignOut = form;
    if (dialog && dialog.showModal) {
      if (!dialog.open) {
        dialog.showModal();
      }
      return;
    }
    // No <dialog> support: the plain browser question, same meaning.
    var title = document.getElementById("draft-signout-title");
    if (window.confirm((title ? title.textContent : "") + "\n\n" + (dialog ? dialog.querySelector("p").textContent : ""))) {
      clearAll();
      signOut(form);
    }
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || form.getAttribute("action") !== logoutUrl) {
        return;
      }
      if (form.getAttribute("data-drafts-checked") === "true" || pendingKeys().length === 0) {
        return; // nothing unsent on this device: sign out as usual
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      sendAll().then(function (allSent) {
        if (allSent) {
          signOut(form);
        } else {
          askBeforeSignOut(form);
        }
      });
    },
    true
  );

  if (dialog) {
    var stay = dialog.querySelector("[data-draft-stay]");
    var retry = dialog.querySelector("[data-draft-retry]");
    var discard = dialog.querySelector("[data-draft-discard]");
    if (stay) {
      stay.addEventListener("click", closeDialog);
    }
    if (retry) {
      retry.addEventListener("click", function () {
        sendAll().then(function (allSent) {
          if (allSent && pendingSignOut) {
            closeDialog();
            signOut(pendingSignOut);
          }
        });
      });
    }
    if (discard) {
      discard.addEventListener("click", function () {
        clearAll();
        closeDialog();
        if (pendingSignOut) {
          signOut(pendingSignOut);
        }
      });
    }
  }

  /* ---- Start ------------------------------------------------------------------------------ */

  // For static/js/worksheets.js: one storage, one owner check, one way to send.
  window.RphDrafts = {
    prefix: PREFIX,
    owner: owner,
    read: read,
    write: write,
    remove: remove,
    keys: pendingKeys,
    deliver: deliver,
  };

  document.addEventListener("DOMContentLoaded", function () {
    // A check-in that was sent: what was kept of it on the device is no longer needed.
    Array.prototype.forEach.call(document.querySelectorAll("[data-draft-done]"), function (done) {
      remove(PREFIX + done.getAttribute("data-draft-done"));
    });
    var form = document.querySelector("form[data-draft-key][data-draft-url]");
    if (form) {
      setUpForm(form);
    }
    if (navigator.onLine) {
      sendAll();
    }
  });
  window.addEventListener("online", function () {
    sendAll();
  });
})();
