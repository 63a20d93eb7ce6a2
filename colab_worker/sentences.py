r"""Where a generated line ends: at a sentence end or a paragraph break (or a newline, for
models trained on hard-wrapped text).

A :class:`LineSplitter` reads a story's generated characters one at a time and says where
each line ends. In *sentence* mode the decoder keeps the whitespace canonical (one space
between words, ``"\n\n"`` between paragraphs, never whitespace at the start of a line, see
``generation.py``), so every line is followed by exactly one of two separators, a space or a
paragraph break, and a story's text is rebuilt from its lines, its paragraph ends and how
its first line follows the seed (``stories.story_text``).

A line ends

* at a paragraph break;
* at a sentence end: ``.``, ``!`` or ``?`` and any closing quotes or brackets, then a space,
  then a character that can start a sentence (a capital, a digit, an opening quote or
  bracket). So the character after the space decides: ``"Hello!" said Peter.`` is one line,
  ``"Hello!" He left.`` two. A ``.`` after an abbreviation (``Mr.``, ``St.``...), an initial
  (``J.``) or a dotted abbreviation (``e.g.``) is no sentence end;
* at the last space within ``max_chars`` characters, when a sentence runs longer (the
  decoder ends any word at ``max_chars`` characters, so there is always such a space).

In *newline* mode a line ends at a newline, as the decoder's line cap forces one.

The first line after a text that ends mid-sentence (a seed, typically) completes that
sentence: it holds the characters written after the text, a leading space included, and
``follows`` says so (``"mid-sentence"``). When that text turns out to end a sentence or a
paragraph itself, the cut has no line (``line`` is None) and the next line says how it
follows (``"sentence"`` or ``"paragraph"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: how a line follows the text before it
NEWLINE, MID_SENTENCE, SENTENCE, PARAGRAPH = "newline", "mid-sentence", "sentence", "paragraph"

_CLOSERS = "\"'\u201d\u2019)]\u00bb"
_OPENERS = "\"'\u201c\u2018([\u00ab\u00bf\u00a1"
_END = re.compile(rf"(\S*)[.!?][{re.escape(_CLOSERS)}]*$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms messrs mme mlle dr st mt ft jr sr prof rev capt col gen lt sgt gov hon vs viz cf".split()
)
_DOTTED = re.compile(r"(?:[A-Za-z]\.){2,}")
_INITIAL = re.compile(r"[A-Z]\.")
#: characters of the text before a line that the first cut may need (its last word)
CONTEXT_CHARS = 64


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends where a sentence may end (the next character decides)."""
    match = _END.search(text)
    if match is None:
        return False
    word = match.group(0).lstrip(_OPENERS).rstrip(_CLOSERS)
    if not word.endswith(".") or word.endswith(".."):
        return True
    if _DOTTED.fullmatch(word) or (_INITIAL.fullmatch(word) and word != "I."):
        return False
    return word[:-1].lower() not in _ABBREVIATIONS


def starts_sentence(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or ch in _OPENERS


@dataclass(frozen=True)
class Cut:
    """A line end. ``length``: how many pending characters the cut consumes (the line and
    the separator after it); ``line``: the line (None when the text before it ended there);
    ``paragraph_end``: a paragraph break follows; ``follows``: how the line follows the text
    before it (``newline``, ``mid-sentence``, ``sentence``, ``paragraph``)."""

    length: int
    line: str | None
    paragraph_end: bool
    follows: str


class LineSplitter:
    """Cuts one story's generated characters into lines (see the module docstring).

    ``before`` is the text the story has so far. In sentence mode a text that ends in
    whitespace ends at a line boundary (that whitespace is the separator); any other
    non-empty text is open: the first line completes its last sentence.
    """

    def __init__(self, sentences: bool, max_chars: int, before: str):
        self.sentences = sentences
        self.max_chars = max_chars
        self.pending = ""
        self.open = sentences and bool(before) and not before[-1].isspace()
        self.context = before[-CONTEXT_CHARS:] if self.open else ""
        if not sentences:
            self.follows = NEWLINE
        elif self.open:
            self.follows = MID_SENTENCE
        else:
            self.follows = PARAGRAPH if not before or before.endswith("\n") else SENTENCE

    def push(self, ch: str) -> Cut | None:
        """Add the next generated character; the cut it completes, if any."""
        text = self.pending = self.pending + ch
        if not self.sentences:
            return self._cut(len(text), text[:-1], False) if ch == "\n" else None
        if text.endswith("\n\n"):
            return self._cut(len(text), text[:-2], True)
        if (len(text) >= 2 and text[-2] == " " and starts_sentence(ch)
                and ends_sentence(self.context + text[:-2])):
            return self._cut(len(text) - 1, text[:-2], False)
        start = 1 if self.open and text.startswith(" ") else 0
        if len(text) - start > self.max_chars:
            space = text.rfind(" ", start + 1, start + self.max_chars + 1)
            if space > start:
                return self._cut(space + 1, text[:space], False)
        return None

    def _cut(self, length: int, line: str, paragraph_end: bool) -> Cut:
        cut = Cut(length, line if line or not self.open else None, paragraph_end, self.follows)
        self.pending = self.pending[length:]
        self.open, self.context = False, ""
        if self.sentences:
            self.follows = PARAGRAPH if paragraph_end else SENTENCE
        return cut
