// The operator's page: swap in its live sections every period (the page works without this:
// it then reloads itself). Open details, scrolled tables and the focus stay where they were;
// a failed look is said above the sections, which stay as they were.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var trouble = document.getElementById("live-trouble");
  if (!live || !window.fetch) return;
  var every = Math.max(1000, Number(live.dataset.refreshMs) || 5000);

  function remember() {
    var focused = document.activeElement;
    return {
      open: Array.prototype.map.call(live.querySelectorAll("details[open]"), function (d) { return d.id; }),
      scrolled: Array.prototype.map.call(live.querySelectorAll(".table-scroll"), function (region) {
        return [region.getAttribute("aria-labelledby"), region.scrollLeft];
      }),
      focus: focused && live.contains(focused) ? focused.id || focused.getAttribute("aria-labelledby") : null
    };
  }

  function restore(state) {
    state.open.forEach(function (id) {
      var details = id && document.getElementById(id);
      if (details) details.open = true;
    });
    state.scrolled.forEach(function (pair) {
      var region = live.querySelector('.table-scroll[aria-labelledby="' + pair[0] + '"]');
      if (region) region.scrollLeft = pair[1];
    });
    if (state.focus) {
      var again = document.getElementById(state.focus) ||
        live.querySelector('[aria-labelledby="' + state.focus + '"]');
      if (again) again.focus({preventScroll: true});
    }
  }

  function look() {
    var options = {credentials: "same-origin", cache: "no-store"};
    if (window.AbortSignal && AbortSignal.timeout) options.signal = AbortSignal.timeout(every * 4);
    fetch(live.dataset.live, options)
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          window.location.reload();  // signed out elsewhere, or the key changed: show the form
          return null;
        }
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var state = remember();
        live.innerHTML = html;  // the server's own template, escaped by Jinja
        restore(state);
        trouble.textContent = "";
      })
      .catch(function (error) {
        trouble.textContent = "Cannot update right now (" + error.message + "); trying again in " +
          every / 1000 + " s.";
      })
      .then(function () {
        window.setTimeout(look, every);
      });
  }

  window.setTimeout(look, every);
})();
