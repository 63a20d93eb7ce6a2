"""How a story's seed and lines read as prose: paragraphs of pieces, and the same as plain text.

A worker that reports ``paragraph_ends`` writes sentences: the seed and the
lines flow into one another, joined by a space (none where one side already
has it), and a paragraph ends after each line whose absolute index is listed.
A worker without it writes one paragraph per line, after the seed's own.
``static/js/story.js`` lays out lines that arrive later by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    """A run of text in a paragraph: the seed, or line ``index`` (0-based) of the story."""

    text: str
    index: int | None = None  # None for the seed

    @property
    def is_seed(self) -> bool:
        return self.index is None


def joiner(left: str, right: str) -> str:
    """What goes between two pieces of one paragraph."""
    if not left or not right or left[-1].isspace() or right[0].isspace():
        return ""
    return " "


def paragraphs(seed: str, lines: list[str], paragraph_ends: list[int] | None) -> list[list[Piece]]:
    """The story as paragraphs; the seed's own blank lines or newlines start paragraphs too."""
    result: list[list[Piece]] = [[Piece(part)] for part in _seed_paragraphs(seed)] or [[]]
    if paragraph_ends is None:
        return [p for p in result if p] + [[Piece(line, i)] for i, line in enumerate(lines)]
    ends = set(paragraph_ends)
    for i, line in enumerate(lines):
        result[-1].append(Piece(line, i))
        if i in ends and i + 1 < len(lines):
            result.append([])
    return [p for p in result if p]


def plain_text(seed: str, lines: list[str], paragraph_ends: list[int] | None) -> str:
    """The story as a text file: what the page shows, one paragraph per line.

    Without ``paragraph_ends`` that is the worker's own text (the seed and one
    line per line); with it, a blank line separates paragraphs.
    """
    if paragraph_ends is None:
        return "\n".join([seed, *lines]) + "\n"
    blocks = []
    for paragraph in paragraphs(seed, lines, paragraph_ends):
        text = ""
        for piece in paragraph:
            text += joiner(text, piece.text) + piece.text
        blocks.append(text)
    return "\n\n".join(blocks) + "\n"


def _seed_paragraphs(seed: str) -> list[str]:
    return [part for part in seed.replace("\r\n", "\n").split("\n") if part.strip()]
