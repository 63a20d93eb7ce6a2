"""What is not prose leaves the training text: illustration tags, footnotes, italics marks,
headings, tables of contents, transcriber's notes, tables and stray markup.

:func:`clean_prose` works on prepared text (:func:`.corpus.prepare_text`: one paragraph a
line, a blank line between paragraphs) and keeps that shape. It is for training only:
``colab-worker evaluate`` scores books as prepared, uncleaned, so a cleaning rule never
changes a score. ``docs/corpus.md`` shows a sample before and after.

A paragraph is dropped when it

* has no lower-case letter (headings in capitals, ``* * *``, ``----``);
* is short and does not end as a sentence or a quotation ends (titles, "by", "CHAPTER
  IV", ``1. The Cyclone``, a signature), or is mostly capitalised words (a table of
  contents run into one paragraph, a title);
* is mostly not letters (tables, rules, page lists), or draws a table (``+--``, ``|``);
* names the edition rather than the story: transcriber's notes, "Produced by", Project
  Gutenberg, copyright lines, lists of illustrations, footnotes.

Inside the paragraphs that stay, illustration and side-note tags, footnote markers
(``[12]``, ``[A]``, ``[*]``, ``{96}``, ``[Pg 12]``) and the marks of italics and bold
(``_word_``, ``=word=``, a drop capital's ``|``) go, and runs of spaces become one space.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"\s*[\[{](?:Illustration|Sidenote|Decoration|Picture|Frontispiece)\b[^\]}]*[\]}]", re.IGNORECASE)
_MARKER = re.compile(r"\s?\[(?:\d{1,3}|[A-Z]|\*+|Pg\.? ?\d+|p\. ?\d+)\]|\s?\{\d{1,4}\}")
_ITALIC = re.compile(r"(?<![A-Za-z0-9])_+([^_\n]+?)_+(?![A-Za-z0-9])")
_BOLD = re.compile(r"(?<![=\w])=([^=\n]+?)=(?![=\w])")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_ENDING = re.compile(r"[.!?:;\"'\u201d\u2019)\]\-\u2014\u2026]$")
_EDITION = re.compile(
    r"transcriber|^\s*produced by|gutenberg|\be-?texts?\b|proofread|copyright|"
    r"^\s*(?:list of )?illustrations\b|^\s*\[?footnote|^\s*contents\b|^\s*the end\.?$",
    re.IGNORECASE,
)


def clean_paragraph(paragraph: str) -> str:
    """The paragraph with tags, markers and italics marks removed (see the module docstring),
    or ``""`` when it is not prose."""
    text = _TAG.sub("", paragraph)
    text = _MARKER.sub("", text)
    text = _ITALIC.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _SPACES.sub(" ", text.replace("_", "")).strip().lstrip("|")
    if not text or not any(c.islower() for c in text) or _EDITION.search(text):
        return ""
    words = text.split()
    capitalised = sum(w[0].isupper() or w[0].isdigit() for w in words) / len(words)
    if capitalised > 0.5 and len(words) > 3:
        return ""
    if not _ENDING.search(text) and len(text) < 200:
        return ""
    if "+--" in text or "|" in text:
        return ""
    letters = sum(c.isalpha() for c in text)
    if letters < 0.6 * len(text):
        return ""
    return text


def clean_prose(text: str) -> str:
    """Prepared text with every paragraph cleaned and the empty ones dropped."""
    kept = [p for p in (clean_paragraph(line) for line in text.split("\n")) if p]
    return "\n\n".join(kept) + "\n" if kept else ""
