/*
 * The leader's page of a course meeting (templates/therapist/courses/meeting.html).
 *
 *  - Attendance: a tap on "Came" / "Did not come" ([data-attendance-tap] forms) is posted with
 *    fetch and the row updated in place, so the page does not reload; the result is announced in
 *    #tap-status. Without this script (or when the post fails) the form posts as usual and the
 *    server redirects back to the page. The person's note for the record gets the new attendance
 *    line.
 *  - The content note ([data-note-draft]) is kept in this tab's sessionStorage while typing and
 *    restored if the page is opened again before it is saved; a submit removes the draft.
 *
 * No inline script or style (strict CSP).
 */
(function () {
  "use strict";

  var status = document.getElementById("tap-status");

  function announce(text) {
    if (status) {
      status.textContent = text;
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-attendance-tap]"), function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch || !window.FormData) {
        return;
      }
      event.preventDefault();
      var data = new FormData(form);
      data.set("status", button.value);
      var buttons = form.querySelectorAll("button[name=status]");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      window.fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("not saved");
        }
        return response.json();
      }).then(function (answer) {
        Array.prototype.forEach.call(buttons, function (b) {
          b.disabled = false;
          b.setAttribute("aria-pressed", b.value === answer.status ? "true" : "false");
        });
        var state = form.querySelector("[data-attendance-state]");
        if (state) {
          state.textContent = button.textContent;
        }
        // The person's note for the record says the new attendance too.
        var note = document.getElementById("record-" + answer.participant);
        if (note && answer.record_line) {
          note.value = note.value.replace(/^Oppmøte: .*$/m, answer.record_line);
          note.textContent = note.value;
        }
        announce(answer.message);
      }).catch(function () {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        // Fall back to the plain post; form.submit() sends no submitter, so add the choice.
        var choice = document.createElement("input");
        choice.type = "hidden";
        choice.name = "status";
        choice.value = button.value;
        form.appendChild(choice);
        form.submit();
      });
    });
  });

  var noteForm = document.querySelector("form[data-note-draft]");
  var store = null;
  try {
    store = window.sessionStorage;
  } catch (e) {
    store = null;
  }
  if (noteForm && store) {
    var key = "rph-draft:" + noteForm.getAttribute("data-note-draft");
    var area = noteForm.querySelector("textarea");
    if (area) {
      var kept = store.getItem(key);
      if (kept !== null && kept !== area.value) {
        area.value = kept;
      }
      area.addEventListener("input", function () {
        try {
          store.setItem(key, area.value);
        } catch (e) {
          /* storage full: the server copy is all we have */
        }
      });
      noteForm.addEventListener("submit", function () {
        store.removeItem(key);
      });
    }
  }
}());
