// Story page: poll the JSON API for lines after the ones shown, append them, keep the state honest.
// Lines are inserted as text (textContent), never as HTML: generated text cannot run.
// After a cancel the worker may still write the line it was on: the page keeps looking
// while the story is "stopping", and offers to continue only once the worker has stopped.
(function () {
  "use strict";

  var root = document.getElementById("story");
  if (!root) return;

  var ACTIVE = { queued: true, running: true };
  var POLL_MS = Number(root.getAttribute("data-poll-ms")) || 1000;
  var HIDDEN_POLL_MS = Math.max(POLL_MS, 5000);
  var RETRY_MS = 5000;

  var apiUrl = root.getAttribute("data-api");
  var text = document.getElementById("story-text");
  var statusBox = document.getElementById("status");
  var connection = document.getElementById("connection");
  var progress = document.getElementById("progress");
  var editText = document.getElementById("edit-seed");
  var lineCount = Number(root.getAttribute("data-line-count"));
  var state = root.getAttribute("data-status");
  var stopping = root.hasAttribute("data-stopping");
  var editDirty = false;

  function appendLines(lines) {
    lines.forEach(function (line) {
      var span = document.createElement("span");
      span.className = "line fresh";
      span.textContent = "\n" + line;
      text.appendChild(span);
    });
  }

  function showState(view) {
    state = view.status;
    stopping = !!view.stopping;
    root.setAttribute("data-status", state);
    statusBox.setAttribute("data-status", state);
    if (statusBox.textContent !== view.message) statusBox.textContent = view.message;
    if (view.progress && view.progress.of) {
      progress.max = view.progress.of;
      progress.value = view.progress.line;
    }
    var active = !!ACTIVE[state];
    progress.hidden = !active;
    document.querySelectorAll("[data-when]").forEach(function (el) {
      el.hidden = el.getAttribute("data-when") === "active" ? !active : active || stopping;
    });
    if (!active && !stopping && editText && !editDirty) editText.value = text.textContent;
  }

  function schedule(ms) {
    window.setTimeout(poll, ms);
  }

  function poll() {
    fetch(apiUrl + "?after=" + lineCount, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 404) {
        connection.textContent = "This story no longer exists on the server.";
        return;
      }
      if (!response.ok) {
        var wait = Number(response.headers.get("Retry-After")) * 1000 || RETRY_MS;
        connection.textContent = "The server is busy; trying again in a few seconds.";
        schedule(wait);
        return;
      }
      return response.json().then(function (view) {
        connection.textContent = "";
        var fresh = view.lines.length > 0 && view.after === lineCount;
        if (fresh) {
          appendLines(view.lines);
          lineCount += view.lines.length;
        }
        showState(view);
        if (ACTIVE[state] || stopping) schedule(document.hidden ? HIDDEN_POLL_MS : POLL_MS);
      });
    }).catch(function () {
      connection.textContent = "Cannot reach the server; trying again in a few seconds.";
      schedule(RETRY_MS);
    });
  }

  if (editText) {
    editText.addEventListener("input", function () { editDirty = true; });
  }

  // A form sent twice would start two stories or two continuations.
  document.querySelectorAll("form").forEach(function (form) {
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

  if (ACTIVE[state] || stopping) schedule(POLL_MS);
})();
