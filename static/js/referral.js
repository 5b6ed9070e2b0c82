/*
 * Self-referral: show crisis help the moment a risk item (PHQ-9 item 9) is answered above 0,
 * before anything is sent. The server shows the same panel on every later step.
 */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const panel = document.getElementById("crisis-panel");
    if (!panel) return;
    document.querySelectorAll("[data-risk-item] input[type=radio]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.checked && Number(input.value) > 0 && panel.hidden) {
          panel.hidden = false;
          panel.scrollIntoView({ block: "start" });
        }
      });
    });
  });
})();
