// Start page: example beginnings fill the text box (never over the visitor's own text without
// asking), and a sent form cannot be sent twice.
(function () {
  "use strict";

  var seed = document.getElementById("seed");
  var examples = document.getElementById("examples");
  if (!seed) return;
  var exampleTexts = [];
  var question = null;

  function use(text) {
    seed.value = text;
    window.Counter.count(seed);
    seed.focus();
  }

  // The box holds the visitor's own text: ask before an example takes its place.
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

  if (examples) {
    examples.querySelectorAll("button[data-example]").forEach(function (button) {
      exampleTexts.push(button.getAttribute("data-example"));
      button.addEventListener("click", function () {
        var typed = seed.value;
        if (typed.trim() && exampleTexts.indexOf(typed) < 0) ask(button);
        else use(button.getAttribute("data-example"));
      });
    });
  }

  // A form sent twice would start two stories.
  var form = seed.form;
  form.addEventListener("submit", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  window.addEventListener("pageshow", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
})();
