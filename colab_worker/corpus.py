"""Training text: Project Gutenberg boilerplate stripping, unwrapping, and the reference split.

A book's training text is its file with the byte-order mark and CRLF line ends normalised,
the Gutenberg header and licence stripped, and the hard wrap undone (:func:`unwrap`): every
paragraph is one line, and paragraphs are separated by one blank line. So the model learns
where sentences and paragraphs end, not where a typesetter broke the line.

The reference split, on which models are compared: prepare each file so, concatenate them
in name order, cut the result into 10,000-character blocks and hold out blocks 7, 27, 47,
... (0-based index ``i`` with ``i % 20 == 7``) for validation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .vocab import normalize_newlines

BLOCK_CHARS = 10_000
HOLDOUT_EVERY = 20
HOLDOUT_OFFSET = 7

# The START line may wrap onto a second line that ends in the closing asterisks.
_START = re.compile(r"^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG[^*\n]*(\n[^*\n]*\*\*\*)?.*$",
                    re.MULTILINE | re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*")
_END = re.compile(
    r"^(\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG|End of (the )?Project Gutenberg)",
    re.MULTILINE | re.IGNORECASE,
)


def strip_gutenberg(text: str) -> str:
    """The text between Gutenberg's ``*** START OF`` line and its ``End of ... Project Gutenberg``
    / ``*** END OF`` line, whichever markers are present; text without markers is kept whole."""
    text = normalize_newlines(text)
    start = _START.search(text)
    if start:
        text = text[start.end():]
    end = _END.search(text)
    if end:
        text = text[: end.start()]
    return text.strip("\n") + "\n"


def unwrap(text: str) -> str:
    """Undo a hard wrap: a line break inside a paragraph (with the spaces around it) becomes
    one space, and paragraphs (separated by one or more blank lines) are kept, each ending
    in ``\\n`` and separated by one blank line."""
    text = normalize_newlines(text)
    paragraphs = (_LINE_BREAK.sub(" ", p).strip() for p in _PARAGRAPH_BREAK.split(text))
    kept = [p for p in paragraphs if p]
    return "\n\n".join(kept) + "\n" if kept else ""


def prepare_text(raw: str) -> str:
    """A book as the model is trained and scored on it: boilerplate stripped, then unwrapped."""
    return unwrap(strip_gutenberg(raw))


def read_book(path: str | Path) -> str:
    return prepare_text(Path(path).read_text(encoding="utf-8-sig"))


def read_corpus(paths: list[str | Path]) -> str:
    """The prepared files, in name order, joined by a blank line."""
    return "\n".join(read_books(paths).values())


def read_books(paths: list[str | Path]) -> dict[str, str]:
    """Each prepared file by its name, in name order (the order :func:`read_corpus` joins them in)."""
    ordered = sorted((Path(p) for p in paths), key=lambda p: p.name)
    names = [p.name for p in ordered]
    if len(set(names)) != len(names):
        shared = sorted({n for n in names if names.count(n) > 1})
        raise ValueError("two corpus files share a name: " + ", ".join(shared))
    return {p.name: read_book(p) for p in ordered}


@dataclass(frozen=True)
class Split:
    """Training text (held-out blocks removed, the rest joined) and the held-out blocks."""

    train: str
    validation: list[str]


def book_split(books: dict[str, str], held_out: Sequence[str] = ()) -> Split:
    """The reference split of the books joined as :func:`read_corpus` joins them, with the
    books named in ``held_out`` also left out of the training text (they are scored whole,
    as books the model never read; the validation blocks stay those of the whole corpus)."""
    unknown = sorted(set(held_out) - set(books))
    if unknown:
        raise ValueError(f"held-out book {unknown[0]!r} is not one of the corpus files")
    spans, start = [], 0
    for name, text in books.items():
        if name in held_out:
            spans.append((start, start + len(text)))
        start += len(text) + 1  # the newline read_corpus joins with
    joined = "\n".join(books.values())
    split = reference_split(joined)
    if not spans:
        return split
    if not _held_block_indices(len(joined)):
        least = BLOCK_CHARS * (HOLDOUT_OFFSET + 1)
        raise ValueError(f"holding a book out needs a corpus of at least {least:,} characters")
    kept = bytearray(b"\x01") * len(joined)
    for a, b in spans:
        kept[a:b] = bytes(b - a)
    for i in _held_block_indices(len(joined)):
        kept[i * BLOCK_CHARS:(i + 1) * BLOCK_CHARS] = bytes(len(kept[i * BLOCK_CHARS:(i + 1) * BLOCK_CHARS]))
    train = "".join(joined[m.start():m.end()] for m in re.finditer(b"\x01+", bytes(kept)))
    return Split(train=train, validation=split.validation)


def _held_block_indices(length: int) -> list[int]:
    return [i for i in range((length + BLOCK_CHARS - 1) // BLOCK_CHARS) if i % HOLDOUT_EVERY == HOLDOUT_OFFSET]


def reference_split(text: str, block_chars: int = BLOCK_CHARS, every: int = HOLDOUT_EVERY,
                    offset: int = HOLDOUT_OFFSET) -> Split:
    """Blocks with ``index % every == offset`` are validation; a text too short for one such
    block holds out its last block instead, so a tiny corpus still has a validation set."""
    blocks = [text[i:i + block_chars] for i in range(0, len(text), block_chars)]
    held = [i for i in range(len(blocks)) if i % every == offset]
    if not held:
        if len(blocks) < 2:
            half = len(text) * 9 // 10
            blocks = [text[:half], text[half:]]
        held = [len(blocks) - 1]
    held_set = set(held)
    return Split(
        train="".join(b for i, b in enumerate(blocks) if i not in held_set),
        validation=[blocks[i] for i in held],
    )
