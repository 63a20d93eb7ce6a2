// The visitor's own stories, kept in this browser only (the server never lists stories).
// A story page records itself, and its state and length as they change (`MyStories.record`);
// the start page lists them with when each was started, how long it is and how it stands,
// asking the server again about the few that were still being written.
(function () {
  "use strict";

  var KEY = "story-machine.stories";
  var MAX = 50;
  var REFRESH_AT_MOST = 5;
  var STATES = { queued: "waiting for a worker", running: "being written", done: "done",
                 cancelled: "stopped", failed: "failed" };
  var when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function load() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
    } catch (e) {
      // storage full or disabled: the list is a convenience, the story is safe on the server
    }
  }

  // Record the story of the story element `root` (first in the list), with `facts` ({status,
  // lines}) when given.
  function record(root, facts) {
    var id = root.getAttribute("data-id");
    var list = load();
    var old = list.filter(function (item) { return item.id === id; })[0] || {};
    var item = {
      id: id,
      url: "/stories/" + id,
      title: root.getAttribute("data-title"),
      created: root.getAttribute("data-created"),
      status: (facts && facts.status) || old.status || root.getAttribute("data-status"),
      lines: facts && facts.lines !== undefined ? facts.lines : (old.lines !== undefined ? old.lines
        : Number(root.getAttribute("data-line-count")))
    };
    save([item].concat(list.filter(function (other) { return other.id !== id; })));
  }

  function describe(item) {
    var parts = [];
    if (typeof item.lines === "number") parts.push(item.lines + (item.lines === 1 ? " line" : " lines"));
    if (STATES[item.status]) parts.push(STATES[item.status]);
    var created = new Date(Number(item.created) * 1000);  // seconds since the epoch
    if (!isNaN(created.getTime())) parts.push("started " + when.format(created));
    return parts.join(" · ");
  }

  function show(section) {
    var ul = section.querySelector("ul");
    ul.textContent = "";
    var refreshed = 0;
    load().forEach(function (item) {
      if (typeof item.url !== "string" || item.url.indexOf("/stories/") !== 0) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title || "Untitled story";
      var facts = document.createElement("span");
      facts.className = "story-facts";
      facts.textContent = describe(item);
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(facts);
      ul.appendChild(li);
      if ((item.status === "queued" || item.status === "running") && refreshed < REFRESH_AT_MOST) {
        refreshed += 1;
        refresh(item, facts);
      }
    });
    section.hidden = ul.children.length === 0;
  }

  // Ask the server how a story that was still being written stands now (no lines: only its state).
  function refresh(item, facts) {
    fetch("/api" + item.url + "?after=999999999", { headers: { Accept: "application/json" },
                                                    credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (view) {
        if (view === null) return;
        item.status = view.status;
        item.lines = view.line_count;
        save(load().map(function (other) { return other.id === item.id ? item : other; }));
        facts.textContent = describe(item);
      })
      .catch(function () { /* the list says what it knew */ });
  }

  // The list on the start page (again after the page put a new copy of it in place).
  function showList() {
    var section = document.getElementById("my-stories");
    if (!section) return;
    show(section);
    section.querySelector("button[data-forget]").addEventListener("click", function () {
      window.localStorage.removeItem(KEY);
      section.querySelector("ul").textContent = "";
      section.hidden = true;
    });
  }

  window.MyStories = { record: record, showList: showList };

  var story = document.getElementById("story");
  if (story) record(story);
  showList();
})();
