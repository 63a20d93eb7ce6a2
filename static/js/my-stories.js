// The visitor's own stories, kept in this browser only (the server never lists stories).
// The story page records itself; the start page shows the list.
(function () {
  "use strict";

  var KEY = "story-machine.stories";
  var MAX = 50;

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

  var story = document.getElementById("story");
  if (story) {
    var id = story.getAttribute("data-id");
    var list = load().filter(function (item) { return item.id !== id; });
    list.unshift({
      id: id,
      url: window.location.pathname,
      title: story.getAttribute("data-title"),
      created: story.getAttribute("data-created")
    });
    save(list);
  }

  var section = document.getElementById("my-stories");
  if (section) {
    var items = load();
    var ul = section.querySelector("ul");
    items.forEach(function (item) {
      if (typeof item.url !== "string" || item.url.indexOf("/stories/") !== 0) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title || "Untitled story";
      li.appendChild(a);
      var created = new Date(Number(item.created) * 1000);  // seconds since the epoch
      if (!isNaN(created.getTime())) {
        var time = document.createElement("time");
        time.dateTime = created.toISOString();
        time.textContent = " · " + created.toLocaleString();
        li.appendChild(time);
      }
      ul.appendChild(li);
    });
    section.hidden = ul.children.length === 0;
    var forget = section.querySelector("button[data-forget]");
    forget.addEventListener("click", function () {
      window.localStorage.removeItem(KEY);
      ul.textContent = "";
      section.hidden = true;
    });
  }
})();
