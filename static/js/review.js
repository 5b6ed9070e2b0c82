/*
 * rph-pwa: the check-in review screen (therapist).
 *
 * - The review timer: [data-review-timer] (hidden without JS) shows the minutes and seconds since
 *   data-started-at (set by the server on the first open), and keeps the minutes field in step
 *   until the therapist edits it. Without JS the minutes field is already prefilled.
 * - The phrase bank: a [data-insert-phrase] button (hidden without JS, where the phrase is shown
 *   to copy) inserts the text of the element it names into the textarea [data-insert-into] at
 *   the cursor.
 * No inline script or style (strict CSP): only the hidden attribute and text are changed.
 */
(function () {
  "use strict";

  var timer = document.querySelector("[data-review-timer]");
  if (timer) {
    var started = Date.parse(timer.getAttribute("data-started-at"));
    var clock = timer.querySelector("[data-review-clock]");
    var minutesField = document.getElementById("done-minutes");
    var edited = false;
    if (minutesField) {
      minutesField.addEventListener("input", function () { edited = true; });
    }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
      var minutes = Math.floor(seconds / 60);
      clock.textContent = pad(minutes) + ":" + pad(seconds % 60);
      if (minutesField && !edited) {
        minutesField.value = String(Math.min(120, Math.max(1, minutes)));
      }
    };
    if (!isNaN(started) && clock) {
      timer.hidden = false;
      tick();
      window.setInterval(tick, 1000);
    }
  }

  var buttons = document.querySelectorAll("button[data-insert-phrase]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-insert-phrase"));
    var target = document.getElementById(button.getAttribute("data-insert-into"));
    if (!source || !target) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = (source.textContent || "").trim();
      var start = typeof target.selectionStart === "number" ? target.selectionStart : target.value.length;
      var end = typeof target.selectionEnd === "number" ? target.selectionEnd : start;
      var before = target.value.slice(0, start);
      var after = target.value.slice(end);
      var gap = before && !/\s$/.test(before) ? " " : "";
      target.value = before + gap + text + after;
      var caret = (before + gap + text).length;
      target.focus();
      if (target.setSelectionRange) {
        target.setSelectionRange(caret, caret);
      }
    });
  });
})();
