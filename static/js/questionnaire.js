/*
 * Questionnaires (progressive enhancement; the server applies the same rules without JS):
 * - the PHQ-9/GAD-7 functioning question is asked "if you have experienced any of these problems",
 *   so it is hidden while every item is answered with its lowest value;
 * - AUDIT-C questions 2-3 are hidden once question 1 is answered "never";
 * - "I would rather talk about it" hides the questions.
 * Hidden questions are cleared, so nothing hidden is sent.
 */
(function () {
  "use strict";
  function lowest(group) {
    const inputs = group.querySelectorAll("input[type=radio]");
    return inputs.length ? inputs[0] : null;
  }
  function setShown(group, shown) {
    if (!group) return;
    group.hidden = !shown;
    if (!shown) group.querySelectorAll("input[type=radio]").forEach(function (i) { i.checked = false; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.querySelector("form");
    if (!form) return;
    const functioning = form.querySelector("[data-functioning]");
    const gate = form.querySelector("[data-gate]");
    const gated = form.querySelectorAll("[data-gated]");
    const decline = form.querySelector("[data-decline]");
    const items = Array.from(form.querySelectorAll("fieldset.choice-group")).filter(function (g) {
      return g !== functioning;
    });
    function update() {
      const declined = decline && decline.checked;
      items.forEach(function (g) { g.hidden = !!declined; });
      if (gate && !declined) {
        const first = lowest(gate);
        gated.forEach(function (g) { setShown(g, !(first && first.checked)); });
      }
      if (functioning) {
        const allLowest = items.every(function (g) { const l = lowest(g); return l && l.checked; });
        setShown(functioning, !declined && !allLowest);
      }
    }
    form.addEventListener("change", update);
    update();
  });
})();
