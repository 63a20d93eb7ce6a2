// How lines flow into the story's paragraphs: the rules of webapp/story_text.py, for lines that
// arrive after the page was rendered. Text is only ever set as textContent, never as HTML.
// `layout` is {ends: Set of line indices a paragraph break follows, seedEnd: how the first line
// follows the seed ("newline" or null: one paragraph per line; "mid-sentence", "sentence",
// "paragraph": sentences that flow)}.
(function () {
  "use strict";

  function flows(layout) {
    return layout.seedEnd !== null && layout.seedEnd !== "newline";
  }

  // Append line `index` to `container`; returns the line's element.
  function appendLine(container, index, text, layout) {
    var paragraph = container.lastElementChild;
    var before = " ";
    var startsParagraph;
    if (!flows(layout) || !paragraph) {
      startsParagraph = true;
    } else if (index === 0) {
      startsParagraph = layout.seedEnd === "paragraph";
      if (layout.seedEnd === "mid-sentence") before = "";
    } else {
      startsParagraph = layout.ends.has(index - 1);
    }
    if (startsParagraph) {
      paragraph = document.createElement("p");
      container.appendChild(paragraph);
    } else if (before) {
      paragraph.appendChild(document.createTextNode(before));
    }
    var span = document.createElement("span");
    span.className = "line";
    span.setAttribute("data-index", String(index));
    span.textContent = text;
    paragraph.appendChild(span);
    return span;
  }

  // Remove the lines from `count` on (a stop cut the story to what its visitor saw).
  function dropLinesFrom(container, count) {
    container.querySelectorAll(".line").forEach(function (span) {
      if (Number(span.getAttribute("data-index")) < count) return;
      var paragraph = span.parentNode;
      var before = span.previousSibling;
      if (before && before.nodeType === Node.TEXT_NODE) paragraph.removeChild(before);
      paragraph.removeChild(span);
      if (!paragraph.textContent.trim()) paragraph.parentNode.removeChild(paragraph);
    });
  }

  window.StoryText = { appendLine: appendLine, dropLinesFrom: dropLinesFrom };
})();
