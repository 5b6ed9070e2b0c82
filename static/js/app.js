/*
 * rph-pwa: small progressive enhancements for every page.
 *
 * Loaded with <script src="/static/js/app.<content hash>.js" defer> (the URL
 * names its content, rph_pwa/assets.py). The site runs under a
 * strict Content-Security-Policy: no inline script, no eval, and no inline
 * styles set from here (we only toggle the `hidden` attribute). Every
 * feature checks that its elements exist and silently does nothing if not,
 * and the site works fully without this script.
 */
(function () {
  "use strict";

  var sw = "serviceWorker" in navigator ? navigator.serviceWorker : null;

  /* ---- Service worker --------------------------------------------------- */

  if (sw) {
    window.addEventListener("load", function () {
      sw.register("/service-worker.js", { scope: "/" }).catch(function () {
        /* Offline support is optional; ignore registration errors. */
      });
    });
  }

  /* ---- After sign-out: clear per-user offline data ------------------------ */

  // The page shown after signing out has an element with [data-signed-out].
  // Nothing personal may stay on a shared device: answers to forms kept here
  // (static/js/form-drafts.js) are removed at once, and the service worker is
  // asked to delete its per-user caches (the safety plan). It answers when
  // done; the page waits for that answer, at most SIGN_OUT_WAIT_MS (no worker,
  // or one that never answers), and then marks the element with
  // data-offline-cleared: "yes" (the worker cleared), "failed" (it could
  // not), "no-worker" (none on this device) or "timeout". Without JS there is
  // no worker either, and the worker drops the plan by itself when the plan's
  // page answers that nobody is signed in.
  var SIGN_OUT_WAIT_MS = 3000;

  function removeDrafts() {
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i -= 1) {
        var storedKey = window.localStorage.key(i);
        if (storedKey && storedKey.indexOf("rph-draft:") === 0) {
          window.localStorage.removeItem(storedKey);
        }
      }
    } catch (e) {
      /* no storage: nothing kept */
    }
  }

  // Resolves with how it went (see above), never rejects, within waitMs.
  function askWorkerToClear(waitMs) {
    return new Promise(function (resolve) {
      if (!sw) {
        resolve("no-worker");
        return;
      }
      var timer = window.setTimeout(function () {
        resolve("timeout");
      }, waitMs);
      function done(result) {
        window.clearTimeout(timer);
        resolve(result);
      }
      sw.getRegistration().then(
        function (registration) {
          if (!registration) {
            done("no-worker");
            return;
          }
          sw.ready.then(function (ready) {
            var worker = sw.controller || ready.active;
            var channel = new MessageChannel();
            channel.port1.onmessage = function (event) {
              done(event.data && event.data.cleared ? "yes" : "failed");
            };
            worker.postMessage({ type: "signed-out" }, [channel.port2]);
          });
        },
        function () {
          done("no-worker");
        }
      );
    });
  }

  var signedOut = document.querySelector("[data-signed-out]");
  if (signedOut) {
    removeDrafts();
    askWorkerToClear(SIGN_OUT_WAIT_MS).then(function (result) {
      signedOut.setAttribute("data-offline-cleared", result);
    });
  }

  /* ---- Install hint ------------------------------------------------------ */

  var installHint = document.getElementById("install-hint");
  var installButton = document.getElementById("install-button");
  var installHintIos = document.getElementById("install-hint-ios");
  var deferredPrompt = null;

  function isStandalone() {
    return (
      navigator.standalone === true ||
      (window.matchMedia &&
        window.matchMedia("(display-mode: standalone)").matches)
    );
  }

  function isIosSafari() {
    var ua = navigator.userAgent || "";
    var ios =
      /iPad|iPhone|iPod/.test(ua) ||
      // iPadOS 13+ reports itself as a Mac.
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
    // Other iOS browsers identify themselves; they have their own menus.
    var otherBrowser = /CriOS|FxiOS|EdgiOS|OPiOS|GSA\//.test(ua);
    return ios && !otherBrowser && /Safari/.test(ua);
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    // Keep the browser's own mini-infobar away; offer our calm hint instead.
    event.preventDefault();
    deferredPrompt = event;
    if (installHint && installButton) {
      installHint.hidden = false;
    }
  });

  if (installButton) {
    installButton.addEventListener("click", function () {
      if (installHint) {
        installHint.hidden = true;
      }
      if (!deferredPrompt) {
        return;
      }
      var promptEvent = deferredPrompt;
      deferredPrompt = null; // prompt() can only be used once.
      promptEvent.prompt();
    });
  }

  window.addEventListener("appinstalled", function () {
    deferredPrompt = null;
    if (installHint) {
      installHint.hidden = true;
    }
  });

  if (installHintIos && isIosSafari() && !isStandalone()) {
    installHintIos.hidden = false;
  }

  /* ---- Confirm before submitting (e.g. delete, withdraw referral) -------- */

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    var msg = form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      event.preventDefault();
    }
  });

  /* ---- Copy to clipboard (e.g. TOTP secret, reference number) ------------ */

  // <button type="button" data-copy-target="some-id"
  //         data-copied-label="Kopiert">Kopier</button>
  // data-copied-label is optional: shown briefly after a successful copy.
  function selectText(element) {
    // Fallback: select the text so the user can copy it by hand.
    var selection = window.getSelection && window.getSelection();
    if (!selection) {
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  var copyButtons = document.querySelectorAll("button[data-copy-target]");
  Array.prototype.forEach.call(copyButtons, function (button) {
    var original = button.textContent;
    var timer = null;
    button.addEventListener("click", function () {
      var target = document.getElementById(
        button.getAttribute("data-copy-target")
      );
      if (!target) {
        return;
      }
      if (!navigator.clipboard || !navigator.clipboard.writeText) {
        selectText(target);
        return;
      }
      var text = (target.textContent || "").trim();
      navigator.clipboard.writeText(text).then(
        function () {
          var copied = button.getAttribute("data-copied-label");
          if (!copied) {
            return;
          }
          button.textContent = copied;
          window.clearTimeout(timer);
          timer = window.setTimeout(function () {
            button.textContent = original;
          }, 2000);
        },
        function () {
          selectText(target);
        }
      );
    });
  });

  /* ---- Tables as stacked rows on a phone ---------------------------------- */

  // Below 64em, tables with class "table" show as stacked rows (static/css/app.css). Each body
  // cell gets its column heading as data-label (shown before the cell's text), found by column
  // position (colspan counted). The table is marked data-stacked, which hides the heading row
  // visually, and its parts get their table roles back (display: block drops them in some
  // browsers). Without this script the headings stay above the rows.
  function labelTable(table) {
    var headings = table.querySelectorAll("thead tr:first-child th");
    if (!headings.length) {
      return;
    }
    var labels = [];
    Array.prototype.forEach.call(headings, function (th) {
      for (var span = th.colSpan || 1; span > 0; span -= 1) {
        labels.push((th.textContent || "").trim());
      }
    });
    table.setAttribute("role", "table");
    Array.prototype.forEach.call(table.querySelectorAll("thead, tbody"), function (group) {
      group.setAttribute("role", "rowgroup");
    });
    Array.prototype.forEach.call(headings, function (th) {
      th.setAttribute("role", "columnheader");
    });
    Array.prototype.forEach.call(table.querySelectorAll("tr"), function (row) {
      row.setAttribute("role", "row");
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var label = labels[column];
        cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
        if (label && cell.tagName === "TD") {
          cell.setAttribute("data-label", label);
        }
        column += cell.colSpan || 1;
      });
    });
    table.setAttribute("data-stacked", "");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.table"), labelTable);

  // ---------------------------------------------------------------------
  // Print buttons: <button type="button" data-print> (the safety plan).
  // ---------------------------------------------------------------------
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
