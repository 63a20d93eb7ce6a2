// How lines flow into the story's paragraphs: the rules of webapp/story_text.py, for lines that
// arrive after the page was rendered. Text is only ever set as textContent, never as HTML.
(function () {
  "use strict";

  function joiner(left, right) {
    if (!left || !right || /\s$/.test(left) || /^\s/.test(right)) return "";
    return " ";
  }

  // Append line `index` to `container`; `ends` is the set of line indices after which a paragraph
  // ends, or null when the worker writes one paragraph per line. Returns the line's element.
  function appendLine(container, index, text, ends) {
    var paragraph = container.lastElementChild;
    var startsParagraph = ends === null || !paragraph || ends.has(index - 1);
    if (startsParagraph) {
      paragraph = document.createElement("p");
      container.appendChild(paragraph);
    } else {
      var gap = joiner(paragraph.textContent, text);
      if (gap) paragraph.appendChild(document.createTextNode(gap));
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

  // The story as the download gives it: paragraphs on their own lines (blank lines between
  // them when the worker marks paragraphs).
  function plainText(container, ends) {
    var blocks = Array.prototype.map.call(container.querySelectorAll("p"), function (p) {
      return p.textContent;
    });
    return blocks.join(ends === null ? "\n" : "\n\n");
  }

  window.StoryText = { joiner: joiner, appendLine: appendLine, dropLinesFrom: dropLinesFrom, plainText: plainText };
})();
