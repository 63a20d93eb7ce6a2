// Start page: example beginnings fill the text box (never over the visitor's own text without
// asking), and the form is sent in place: the page becomes the story page without loading a new
// document (the story's real address in the address bar, Back returns to the start page), so
// the story's stream opens as soon as the server has the story. Without fetch and the history
// API, or if sending fails, the form posts and the server redirects as it does without JavaScript.
(function () {
  "use strict";

  // The box holds the visitor's own text: ask before an example takes its place.
  function examplesFor(seed, examples) {
    var exampleTexts = [];
    var question = null;

    function use(text) {
      seed.value = text;
      window.Counter.count(seed);
      seed.focus();
    }

    function ask(button) {
      if (!question) {
        question = document.createElement("div");
        question.className = "replace-question";
        question.id = "replace-question";
        question.setAttribute("role", "alert");
        question.appendChild(document.createElement("p"));
        [["Replace my text", "replace", ""], ["Keep my text", "keep", "secondary"]].forEach(function (spec) {
          var choice = document.createElement("button");
          choice.type = "button";
          choice.textContent = spec[0];
          choice.className = spec[2];
          choice.setAttribute("data-choice", spec[1]);
          question.appendChild(choice);
        });
        examples.appendChild(question);
        question.addEventListener("click", function (event) {
          var choice = event.target.getAttribute("data-choice");
          if (!choice) return;
          question.hidden = true;
          if (choice === "replace") use(question.getAttribute("data-text"));
          else seed.focus();
        });
      }
      question.firstChild.textContent = "The box holds your own text. Replace it with “" +
        button.textContent + "”?";
      question.setAttribute("data-text", button.getAttribute("data-example"));
      question.hidden = false;
      question.querySelector("button").focus();
    }

    examples.querySelectorAll("button[data-example]").forEach(function (button) {
      exampleTexts.push(button.getAttribute("data-example"));
      button.addEventListener("click", function () {
        var typed = seed.value;
        if (typed.trim() && exampleTexts.indexOf(typed) < 0) ask(button);
        else use(button.getAttribute("data-example"));
      });
    });
  }

  // Put the page the server answered with in place of this one's main part.
  function become(html, response, form) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var main = page.getElementById("main");
    if (!main) { form.submit(); return; }
    var story = response.redirected && response.ok && page.getElementById("story");
    // anything but the story or the form again (an error page): a plain post, so that Back
    // brings the form back with what was typed
    if (!story && !page.getElementById("seed")) { form.submit(); return; }
    if (story) {
      history.pushState({ story: true }, "", response.url);
      shownPath = location.pathname;
    }
    document.title = page.title;
    document.getElementById("main").replaceWith(document.importNode(main, true));
    window.scrollTo(0, 0);
    if (!story) { start(); window.MyStories.showList(); return; }  // the form again, with what to correct
    var root = document.getElementById("story");
    window.MyStories.record(root);
    window.StoryPage.start(root);
    document.getElementById("main").focus();
  }

  function sendInPlace(form) {
    form.addEventListener("submit", function (event) {
      // A form sent twice would start two stories.
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      if (!window.fetch || !window.DOMParser || !(window.history && history.pushState)) return;
      event.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          return response.text().then(function (html) { become(html, response, form); });
        })
        .catch(function () { form.submit(); });  // its story id makes a second send the same story
    });
  }

  function start() {
    var seed = document.getElementById("seed");
    if (!seed) return;
    var examples = document.getElementById("examples");
    if (examples) examplesFor(seed, examples);
    sendInPlace(seed.form);
  }

  // Back (or Forward) between the start page and a story it became: load the page the address
  // names (this document may show the other one); a jump within the page (#seed) is not that
  var shownPath = location.pathname;
  window.addEventListener("popstate", function () {
    if (location.pathname !== shownPath) window.location.reload();
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
  start();
})();
