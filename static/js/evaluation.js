/*
 * The course evaluation form (templates/public/evaluation/form.html): what the person ticks and
 * types is kept in localStorage while they answer, so a reload or a lost connection loses
 * nothing; it is put back when the page opens again, and removed once the form is sent (the
 * thanks page names it with data-evaluation-done).
 *
 * The storage key is an opaque value from the server ("rph-evaluation:<key>"), not the link's
 * token. Without this script (or without storage) the form works as before. No inline script or
 * style (strict CSP).
 */
(function () {
  "use strict";

  var PREFIX = "rph-evaluation:";
  var store = null;
  try {
    store = window.localStorage;
    store.getItem(PREFIX);
  } catch (e) {
    return; // storage refused (private mode, settings): the form still works
  }

  var done = document.querySelector("[data-evaluation-done]");
  if (done) {
    store.removeItem(PREFIX + done.getAttribute("data-evaluation-done"));
    return;
  }
  var form = document.querySelector("form[data-evaluation-draft]");
  if (!form) {
    return;
  }
  var key = PREFIX + form.getAttribute("data-evaluation-draft");

  function read() {
    try {
      var entry = JSON.parse(store.getItem(key) || "null");
      return entry && typeof entry === "object" ? entry : null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    var entry = {};
    var fields = form.querySelectorAll("input[type=radio]:checked, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      entry[fields[i].name] = fields[i].value;
    }
    try {
      store.setItem(key, JSON.stringify(entry));
    } catch (e) {
      // storage full: the form still works
    }
  }

  // Put back what was kept, where the page (a re-shown form keeps its own) has nothing.
  var kept = read();
  if (kept) {
    var areas = form.querySelectorAll("textarea");
    for (var i = 0; i < areas.length; i += 1) {
      if (!areas[i].value && typeof kept[areas[i].name] === "string") {
        areas[i].value = kept[areas[i].name];
      }
    }
    var radios = form.querySelectorAll("input[type=radio]");
    var answered = {};
    for (var j = 0; j < radios.length; j += 1) {
      if (radios[j].checked) {
        answered[radios[j].name] = true;
      }
    }
    for (var k = 0; k < radios.length; k += 1) {
      var radio = radios[k];
      if (!answered[radio.name] && kept[radio.name] === radio.value) {
        radio.checked = true;
      }
    }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
}());
