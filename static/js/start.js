// Start page: example beginnings fill the text box (never submit, never lose what was typed),
// and a counter shows the length against the limit.
(function () {
  "use strict";

  var seed = document.getElementById("seed");
  var counter = document.getElementById("seed-counter");
  var examples = document.getElementById("examples");
  if (!seed || !counter) return;

  var max = Number(counter.getAttribute("data-max"));
  var format = new Intl.NumberFormat("en");
  var exampleTexts = [];
  var undo = null;

  function count() {
    var length = seed.value.length;
    var over = length - max;
    counter.textContent = format.format(length) + " of " + format.format(max) + " characters" +
      (over > 0 ? ": " + format.format(over) + " too many" : "");
    counter.setAttribute("data-over", over > 0 ? "true" : "false");
  }

  function offerUndo(previous) {
    if (!undo) {
      undo = document.createElement("button");
      undo.type = "button";
      undo.className = "secondary";
      undo.id = "undo-example";
      examples.appendChild(undo);
      undo.addEventListener("click", function () {
        seed.value = undo.getAttribute("data-text");
        undo.hidden = true;
        count();
        seed.focus();
      });
    }
    undo.textContent = "Bring back my text";
    undo.setAttribute("data-text", previous);
    undo.hidden = false;
  }

  if (examples) {
    examples.querySelectorAll("button[data-example]").forEach(function (button) {
      exampleTexts.push(button.getAttribute("data-example"));
      button.addEventListener("click", function () {
        var typed = seed.value;
        if (typed.trim() && exampleTexts.indexOf(typed) < 0) offerUndo(typed);
        seed.value = button.getAttribute("data-example");
        count();
        seed.focus();
      });
    });
  }

  seed.addEventListener("input", count);
  count();

  // A form sent twice would start two stories.
  var form = seed.form;
  form.addEventListener("submit", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  window.addEventListener("pageshow", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
})();
