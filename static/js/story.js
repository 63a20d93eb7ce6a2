// Story page: receive lines as the server learns of them, reveal them at a reading pace, keep the
// state honest, and stop the story where its visitor stopped reading.
//
// Lines come over Server-Sent Events (the stream resumes after the last line received); if the
// stream cannot be used, the page polls the JSON API instead. Lines wait in a queue and appear
// one at a time, about 45 characters a second, faster when the page would fall more than about
// 3 s behind; with prefers-reduced-motion they appear at once. Screen readers hear each line
// whole through a polite live region. "Stop writing" sends the number of lines shown, so the
// story ends there; lines after it are held back until the server says how the story ends.
(function () {
  "use strict";

  var root = document.getElementById("story");
  if (!root) return;
  var T = window.StoryText;

  var ACTIVE = { queued: true, running: true };
  var CHARS_PER_SECOND = 45;
  var MAX_BEHIND_MS = 2500;
  var MIN_LINE_MS = 120;
  var FRESH_MS = 2500;
  var POLL_MS = Number(root.getAttribute("data-poll-ms")) || 1000;
  var HIDDEN_POLL_MS = Math.max(POLL_MS, 5000);
  var RETRY_MS = 5000;
  var STREAM_FAILURES_BEFORE_POLLING = 3;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

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
  var editText = document.getElementById("edit-seed");

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
  var lastMessage = statusBox.textContent;
  var editDirty = false;
  var revealTimer = null;
  var finalView = null;      // how the story ended, shown once the lines before it are revealed
  var freshTimer = null;
  var source = null;
  var streamFailures = 0;
  var streamOpened = false;
  var polling = false;

  root.setAttribute("data-transport", "none");
  root.setAttribute("data-seen", String(shown));

  // ---- the reveal ----

  function backlogChars() {
    return pending.reduce(function (sum, item) { return sum + item[1].length + 1; }, 0);
  }

  function revealable() {
    return pending.length > 0 && (holdAfter === null || shown < holdAfter);
  }

  function showLine(item) {
    var span = T.appendLine(text, item[0], item[1], layout);
    shown = item[0] + 1;
    root.setAttribute("data-seen", String(shown));
    var previous = text.querySelector(".line.fresh");
    if (previous) previous.classList.remove("fresh");
    span.classList.add("fresh");
    window.clearTimeout(freshTimer);
    freshTimer = window.setTimeout(function () { span.classList.remove("fresh"); }, FRESH_MS);
    return span;
  }

  function revealNext() {
    revealTimer = null;
    if (!revealable()) return afterReveal();
    if (reducedMotion && reducedMotion.matches) {
      var said = [];
      while (revealable()) { var item = pending.shift(); showLine(item); said.push(item[1]); }
      announcer.textContent = said.join(" ");
      return afterReveal();
    }
    var next = pending.shift();
    showLine(next);
    announcer.textContent = next[1];
    // read at a steady pace, faster when the lines still waiting would put the page too far behind
    var pace = Math.max(CHARS_PER_SECOND, backlogChars() * 1000 / MAX_BEHIND_MS);
    var wait = Math.max(MIN_LINE_MS, (next[1].length + 1) * 1000 / pace);
    if (revealable()) revealTimer = window.setTimeout(revealNext, wait);
    else afterReveal();
  }

  function scheduleReveal() {
    if (revealTimer === null && revealable()) revealTimer = window.setTimeout(revealNext, 0);
  }

  function afterReveal() {
    if (pending.length > 0) return;
    if (finalView !== null) { var view = finalView; finalView = null; showState(view); }
    if (finished) showFinished();
  }

  function addLines(after, lines, paragraphEnds, seedEnd) {
    // paragraph ends come for the lines after `after`; earlier ones are kept
    (paragraphEnds || []).forEach(function (i) { layout.ends.add(i); });
    if (seedEnd) layout.seedEnd = seedEnd;
    if (after > received) return false;  // a gap: the caller asks again from `received`
    lines.slice(received - after).forEach(function (line, i) {
      pending.push([received + i, line]);
    });
    received = Math.max(received, after + lines.length);
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
    lastMessage = view.message;
    if (statusBox.textContent !== view.message) statusBox.textContent = view.message;
    connection.textContent = "";
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
    if (editText && !editDirty) editText.value = T.plainText(text, layout);
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

  if (editText) editText.addEventListener("input", function () { editDirty = true; });

  // A form sent twice would start two stories or two continuations.
  document.querySelectorAll("form").forEach(function (form) {
    if (form === cancelForm) return;
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });

  var copyButton = document.getElementById("copy-link");
  var shareLink = document.getElementById("share-link");
  var copyResult = document.getElementById("copy-result");
  copyButton.hidden = false;
  copyButton.addEventListener("click", function () {
    function copied() { copyResult.textContent = "Link copied."; }
    function selectIt() {
      shareLink.focus();
      shareLink.select();
      copyResult.textContent = "Link selected: copy it with your device's copy command.";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(shareLink.value).then(copied, selectIt);
    } else {
      selectIt();
    }
  });

  // Coming back with the Back button shows the page as it was left: buttons usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });

  if (ACTIVE[state] || stopping) {
    if (window.EventSource) openStream();
    else startPolling();
  }
})();
