// Text boxes with a limit: the counter below each (`.counter[data-for=BOX_ID][data-max=N]`) shows
// the length against the limit as the visitor types, and how many characters are too many.
// Boxes that arrive later (a form fetched again) are counted too: one listener for the document.
(function () {
  "use strict";

  var format = new Intl.NumberFormat("en");

  function count(box) {
    var counter = document.querySelector('.counter[data-for="' + box.id + '"]');
    if (!counter) return;
    var max = Number(counter.getAttribute("data-max"));
    var length = Array.from(box.value).length;  // characters as the server counts them, not UTF-16 units
    var over = length - max;
    counter.textContent = format.format(length) + " of " + format.format(max) + " characters" +
      (over > 0 ? ": " + format.format(over) + " too many" : "");
    counter.setAttribute("data-over", over > 0 ? "true" : "false");
  }

  document.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") count(event.target);
  });
  document.querySelectorAll(".counter[data-for]").forEach(function (counter) {
    var box = document.getElementById(counter.getAttribute("data-for"));
    if (box) count(box);
  });

  window.Counter = { count: count };
})();
