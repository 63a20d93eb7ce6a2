// Story page: receive lines as the server learns of them, reveal them at one reading pace, keep
// the state honest, and stop the story where its visitor stopped reading.
//
// Lines come over Server-Sent Events (the stream resumes after the last line received); if the
// stream cannot be used, the page polls the JSON API instead. Lines wait in a queue and appear
// one at a time at CHARS_PER_SECOND (a line of 90 characters takes 2 s), however many wait;
// "Show all now" reveals the waiting lines at once, and with prefers-reduced-motion they appear
// at once anyway. While the visitor follows the story (has not scrolled away from its newest
// words), each new line is brought into view. Screen readers hear each line whole through a
// polite live region. "Stop writing" sends the number of lines shown, so the story ends there;
// lines after it are held back until the server says how the story ends.
//
// `StoryPage.start(root)` runs the page on the story element `root`; the start page calls it
// when it becomes a story page without loading a new document.
(function () {
  "use strict";

  var T = window.StoryText;
  var ACTIVE = { queued: true, running: true };
  var CHARS_PER_SECOND = 45;
  var CATCH_UP_AFTER_MS = 3000;   // "Show all now" is offered once the waiting lines take longer
  var FRESH_MS = 2500;
  var COPY_NOTICE_MS = 4000;
  var RETRY_MS = 5000;
  var STREAM_FAILURES_BEFORE_POLLING = 3;
  var SCROLL_KEYS = { ArrowUp: 1, ArrowDown: 1, PageUp: 1, PageDown: 1, Home: 1, End: 1, " ": 1 };
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  function start(root) {
    var POLL_MS = Number(root.getAttribute("data-poll-ms")) || 1000;
    var HIDDEN_POLL_MS = Math.max(POLL_MS, 5000);
    var apiUrl = root.getAttribute("data-api");
    var streamUrl = root.getAttribute("data-stream");
    var cancelUrl = root.getAttribute("data-cancel");
    var text = document.getElementById("story-text");
    var announcer = document.getElementById("announcer");
    var statusBox = document.getElementById("status");
    var connection = document.getElementById("connection");
    var progress = document.getElementById("progress");
    var stopButton = document.getElementById("stop");
    var cancelForm = document.getElementById("cancel-form");
    var catchUp = document.getElementById("show-all");

    var layout = {
      ends: new Set(JSON.parse(root.getAttribute("data-paragraph-ends") || "[]")),
      seedEnd: root.getAttribute("data-seed-end")
    };
    var received = Number(root.getAttribute("data-line-count"));  // lines the page has (shown or waiting)
    var shown = received;                                          // lines the visitor has seen
    var pending = [];                                              // [index, text] not yet shown
    var holdAfter = null;      // after a stop: show no line beyond this count until the story ends
    var state = root.getAttribute("data-status");
    var stopping = root.hasAttribute("data-stopping");
    var finished = !ACTIVE[state] && !stopping;
    var editDirty = false;
    var editFormAt = finished ? received : null;  // the line count the edit form's text is of
    var revealTimer = null;
    var finalView = null;      // how the story ended, shown once the lines before it are revealed
    var freshTimer = null;
    var source = null;
    var streamFailures = 0;
    var streamOpened = false;
    var polling = false;
    var scrolledByVisitor = false;  // the visitor has scrolled (or keyed) the page themselves

    root.setAttribute("data-transport", "none");
    root.setAttribute("data-seen", String(shown));
    root.setAttribute("data-received", String(received));

    // ---- following the newest words ----

    function markScrolled(event) {
      if (event.type !== "keydown" || SCROLL_KEYS[event.key]) scrolledByVisitor = true;
    }
    ["wheel", "touchmove", "keydown"].forEach(function (name) {
      window.addEventListener(name, markScrolled, { passive: true });
    });

    function newest() {
      var spans = text.querySelectorAll(".line, .seed");
      return spans.length ? spans[spans.length - 1] : null;
    }

    function inView(element) {
      var box = element.getBoundingClientRect();
      var bar = document.getElementById("controls").getBoundingClientRect();
      var bottom = Math.min(window.innerHeight, bar.top > 0 ? bar.top : window.innerHeight);
      return box.bottom > 0 && box.bottom <= bottom + 1;
    }

    // Whether the visitor is following the story: they have not scrolled, or they have scrolled
    // to where its newest words are.
    function following() {
      var last = newest();
      return !scrolledByVisitor || last === null || inView(last);
    }

    function bringIntoView(span) {
      var smooth = !(reducedMotion && reducedMotion.matches);
      span.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
    }

    // ---- the reveal ----

    function backlogChars() {
      return pending.reduce(function (sum, item) { return sum + item[1].length + 1; }, 0);
    }

    function revealable() {
      return pending.length > 0 && (holdAfter === null || shown < holdAfter);
    }

    function showLine(item) {
      var follow = following();
      var span = T.appendLine(text, item[0], item[1], layout);
      shown = item[0] + 1;
      root.setAttribute("data-seen", String(shown));
      var previous = text.querySelector(".line.fresh");
      if (previous) previous.classList.remove("fresh");
      span.classList.add("fresh");
      window.clearTimeout(freshTimer);
      freshTimer = window.setTimeout(function () { span.classList.remove("fresh"); }, FRESH_MS);
      if (follow) bringIntoView(span);
      return span;
    }

    function showAllWaiting() {
      var said = [];
      while (revealable()) { var item = pending.shift(); showLine(item); said.push(item[1]); }
      announcer.textContent = said.join(" ");
    }

    function offerCatchUp() {
      catchUp.hidden = !(revealable() && backlogChars() * 1000 / CHARS_PER_SECOND > CATCH_UP_AFTER_MS);
    }

    function revealNext() {
      revealTimer = null;
      if (!revealable()) return afterReveal();
      if (reducedMotion && reducedMotion.matches) {
        showAllWaiting();
        return afterReveal();
      }
      var next = pending.shift();
      showLine(next);
      announcer.textContent = next[1];
      offerCatchUp();
      if (revealable()) revealTimer = window.setTimeout(revealNext, (next[1].length + 1) * 1000 / CHARS_PER_SECOND);
      else afterReveal();
    }

    function scheduleReveal() {
      if (revealTimer === null && revealable()) revealTimer = window.setTimeout(revealNext, 0);
      offerCatchUp();
    }

    function afterReveal() {
      offerCatchUp();
      if (pending.length > 0) return;
      if (finalView !== null) { var view = finalView; finalView = null; showState(view); }
      if (finished) showFinished();
    }

    catchUp.addEventListener("click", function () {
      window.clearTimeout(revealTimer);
      revealTimer = null;
      showAllWaiting();
      afterReveal();
    });

    function addLines(after, lines, paragraphEnds, seedEnd) {
      // paragraph ends come for the lines after `after`; earlier ones are kept
      (paragraphEnds || []).forEach(function (i) { layout.ends.add(i); });
      if (seedEnd) layout.seedEnd = seedEnd;
      if (after > received) return false;  // a gap: the caller asks again from `received`
      lines.slice(received - after).forEach(function (line, i) {
        pending.push([received + i, line]);
      });
      received = Math.max(received, after + lines.length);
      root.setAttribute("data-received", String(received));
      scheduleReveal();
      return true;
    }

    function cutTo(count) {
      pending = pending.filter(function (item) { return item[0] < count; });
      layout.ends.forEach(function (i) { if (i >= count - 1) layout.ends.delete(i); });
      if (shown > count) {
        T.dropLinesFrom(text, count);
        shown = count;
        root.setAttribute("data-seen", String(shown));
      }
      received = Math.min(received, count);
      root.setAttribute("data-received", String(received));
      offerCatchUp();
    }

    // ---- the state ----

    function showState(view) {
      if (!ACTIVE[view.status] && !view.stopping && pending.length > 0) {
        // the story has ended as the server says: every line it kept is real, show them first
        finalView = view;
        holdAfter = null;
        scheduleReveal();
        return;
      }
      state = view.status;
      stopping = !!view.stopping;
      root.setAttribute("data-status", state);
      statusBox.setAttribute("data-status", state);
      if (statusBox.textContent !== view.message) statusBox.textContent = view.message;
      connection.textContent = "";
      window.MyStories.record(root, { status: state, lines: view.line_count });
      if (view.progress && view.progress.of) {
        progress.max = view.progress.of;
        progress.value = view.progress.line;
      } else {
        progress.removeAttribute("value");  // no report yet: the bar says "working", not "0 of 1"
      }
      progress.hidden = state !== "running";
      stopButton.textContent = state === "queued" ? "Cancel" : "Stop writing";
      var active = !!ACTIVE[state];
      cancelForm.hidden = !active;
      finished = !active && !stopping;
      if (finished) afterReveal();
    }

    function showFinished() {
      document.querySelectorAll("[data-when=finished]").forEach(function (el) { el.hidden = false; });
      if (!editDirty && editFormAt !== received) refreshEditForm();
    }

    // The edit form holds the story's text as the server has it (its end, for a long story):
    // fetch it again now that the story has its last lines.
    function refreshEditForm() {
      editFormAt = received;
      fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null || editDirty) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("edit-form");
          var current = document.getElementById("edit-form");
          if (fresh && current) current.parentNode.replaceChild(document.importNode(fresh, true), current);
        })
        .catch(function () { /* the form keeps the text it had; the server checks what is sent */ });
    }

    function lostTouch(what) {
      // Say what is true: the page no longer knows how the story is going.
      statusBox.setAttribute("data-status", "unknown");
      statusBox.textContent = "Lost touch with the server after line " + received + ". " +
        "The story may still be being written: this page keeps trying.";
      progress.hidden = true;
      connection.textContent = what;
    }

    // ---- the stream ----

    function openStream() {
      root.setAttribute("data-transport", "stream");
      source = new EventSource(streamUrl + "?after=" + received);
      source.onopen = function () { streamOpened = true; };
      source.addEventListener("lines", function (e) {
        streamFailures = 0;
        var body = JSON.parse(e.data);
        if (!addLines(body.after, body.lines, body.paragraph_ends, body.seed_end)) { source.close(); openStream(); }
      });
      source.addEventListener("cut", function (e) { cutTo(JSON.parse(e.data).line_count); });
      source.addEventListener("state", function (e) {
        streamFailures = 0;
        var view = JSON.parse(e.data);
        if (view.trouble) { lostTouch(view.trouble); return; }
        showState(view);
      });
      source.addEventListener("end", function () { source.close(); source = null; });
      source.addEventListener("gone", function (e) {
        source.close();
        source = null;
        connection.textContent = JSON.parse(e.data).message;
      });
      source.onerror = function () {
        if (source === null) return;
        streamFailures += 1;
        if (!streamOpened || source.readyState === EventSource.CLOSED ||
            streamFailures >= STREAM_FAILURES_BEFORE_POLLING) {
          source.close();
          source = null;
          startPolling();  // a proxy or a full server: ask the JSON API instead
        } else if (streamFailures > 1) {
          lostTouch("Reconnecting…");
        }
      };
    }

    // ---- polling, when the stream cannot be used ----

    function startPolling() {
      if (polling) return;
      polling = true;
      root.setAttribute("data-transport", "polling");
      poll();
    }

    function schedulePoll(ms) { window.setTimeout(poll, ms); }

    function poll() {
      fetch(apiUrl + "?after=" + received, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store"
      }).then(function (response) {
        if (response.status === 404) {
          connection.textContent = "This story no longer exists on the server.";
          return;
        }
        if (!response.ok) {
          var wait = Number(response.headers.get("Retry-After")) * 1000 || RETRY_MS;
          lostTouch("The server is busy; trying again in a few seconds.");
          schedulePoll(wait);
          return;
        }
        return response.json().then(function (view) {
          if (view.line_count < received) cutTo(view.line_count);
          else addLines(view.after, view.lines, view.paragraph_ends, view.seed_end);
          showState(view);
          if (ACTIVE[state] || stopping) schedulePoll(document.hidden ? HIDDEN_POLL_MS : POLL_MS);
        });
      }).catch(function () {
        lostTouch("Cannot reach the server; trying again in a few seconds.");
        schedulePoll(RETRY_MS);
      });
    }

    // ---- stop where the visitor is ----

    cancelForm.addEventListener("submit", function (event) {
      if (!window.fetch) return;  // the form posts as without JavaScript
      event.preventDefault();
      var seen = shown;
      holdAfter = seen + 1;  // the worker may finish the line it was writing: that one may still come
      stopButton.disabled = true;
      fetch(cancelUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ seen: seen })
      }).then(function (response) {
        return response.json().then(function (body) {
          stopButton.disabled = false;
          if (!response.ok) { connection.textContent = body.message; return; }
          showState({ status: body.status, message: body.message, stopping: body.stopping });
          if (!source && !polling) startPolling();
        });
      }).catch(function () {
        stopButton.disabled = false;
        lostTouch("Cannot reach the server to stop the story; try again.");
      });
    });

    root.addEventListener("input", function (event) {
      if (event.target.id === "edit-seed") editDirty = true;
    });

    // A form sent twice would start two stories or two continuations.
    root.addEventListener("submit", function (event) {
      if (event.target === cancelForm) return;
      event.target.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });

    var copyButton = document.getElementById("copy-link");
    var shareLink = document.getElementById("share-link");
    var copyResult = document.getElementById("copy-result");
    var copyTimer = null;
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      function say(message) {
        copyResult.textContent = message;
        window.clearTimeout(copyTimer);  // the notice sits over the story: it goes after a few seconds
        copyTimer = window.setTimeout(function () { copyResult.textContent = ""; }, COPY_NOTICE_MS);
      }
      function selectIt() {
        shareLink.focus();
        shareLink.select();
        say("Link selected: copy it with your device's copy command.");
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(shareLink.value).then(function () { say("Link copied."); }, selectIt);
      } else {
        selectIt();
      }
    });

    if (ACTIVE[state] || stopping) {
      if (window.EventSource) openStream();
      else startPolling();
    }
  }

  // Coming back with the Back button shows the page as it was left: buttons usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });

  window.StoryPage = { start: start };
  var root = document.getElementById("story");
  if (root) start(root);
})();
