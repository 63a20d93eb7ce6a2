"""How a story reads on its page: paragraphs of pieces, by the rules of ``stories.story_text``.

``seed_end`` says how the first line follows the seed. A story whose lines end
at newlines (``"newline"``, or not known yet) shows the seed and then one
paragraph per line. A story of sentences flows: the first line runs straight
on from a seed that ended mid-sentence, follows it after a space, or starts a
new paragraph; each later line follows after a space, or starts a paragraph
when the line before it is in ``paragraph_ends``. ``static/js/story-text.js``
lays out lines that arrive later by the same rules; the download is
``stories.story_text`` itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from stories.story_text import MID_SENTENCE, NEWLINE, PARAGRAPH


@dataclass(frozen=True)
class Piece:
    """A run of text in a paragraph: the seed, or line ``index`` (0-based); ``before`` goes first."""

    text: str
    index: int | None = None  # None for the seed
    before: str = ""

    @property
    def is_seed(self) -> bool:
        return self.index is None


def flows(seed_end: str | None) -> bool:
    """Whether the lines are sentences that flow into paragraphs (not one line a paragraph)."""
    return seed_end is not None and seed_end != NEWLINE


def paragraphs(seed: str, lines: list[str], paragraph_ends: Collection[int],
               seed_end: str | None) -> list[list[Piece]]:
    """The story as paragraphs; the seed's own line breaks start paragraphs too."""
    result = [[Piece(part)] for part in seed.replace("\r\n", "\n").split("\n") if part.strip()]
    if not flows(seed_end):
        return result + [[Piece(line, i)] for i, line in enumerate(lines)]
    if result:  # the model read the seed without its trailing whitespace
        result[-1][0] = Piece(result[-1][0].text.rstrip())
    ends = set(paragraph_ends)
    for i, line in enumerate(lines):
        if i == 0:
            new_paragraph = not result or seed_end == PARAGRAPH
            before = "" if seed_end == MID_SENTENCE else " "
        else:
            new_paragraph, before = i - 1 in ends, " "
        if new_paragraph:
            result.append([Piece(line, i)])
        else:
            result[-1].append(Piece(line, i, before))
    return result


def edit_start(text: str, room: int, tail: int) -> int:
    """Where the editable end of a story's ``text`` begins: 0 when the whole text fits in
    ``room`` characters, else the start of the first paragraph (failing that, sentence or
    word) within its last ``tail`` characters, so the box holds whole paragraphs."""
    if len(text.rstrip()) <= room:
        return 0
    earliest = len(text.rstrip()) - tail
    for boundary in ("\n", ". ", " "):
        found = text.find(boundary, max(0, earliest - len(boundary)))
        rest = text[found + len(boundary):] if found != -1 else ""
        if rest.strip():
            return len(text) - len(rest.lstrip())  # the spaces before it stay with the text kept
    return earliest
