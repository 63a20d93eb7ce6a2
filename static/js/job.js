// The page of a job that is not a story: while the job runs, fetch the page again every few
// seconds and put its changed parts (state, buttons, result, output) in place, without a reload.
(function () {
  "use strict";

  var root = document.getElementById("job");
  if (!root) return;
  var POLL_MS = Number(root.getAttribute("data-poll-ms")) || 2000;

  function refresh() {
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return window.setTimeout(refresh, POLL_MS * 2);
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job");
        if (!fresh) return;
        fresh.querySelectorAll("[data-part]").forEach(function (part) {
          var name = part.getAttribute("data-part");
          var current = root.querySelector('[data-part="' + name + '"]');
          if (current && current.innerHTML !== part.innerHTML && !current.contains(document.activeElement)) {
            current.replaceWith(document.importNode(part, true));
          }
        });
        root.setAttribute("data-settled", fresh.getAttribute("data-settled"));
        if (fresh.getAttribute("data-settled") !== "true") window.setTimeout(refresh, POLL_MS);
      })
      .catch(function () { window.setTimeout(refresh, POLL_MS * 2); });
  }

  if (root.getAttribute("data-settled") !== "true") window.setTimeout(refresh, POLL_MS);
})();
