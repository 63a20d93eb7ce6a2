r"""The text of a story job, rebuilt from its seed and output: what the model has read when
it writes the next line, and what a reader downloads.

A story's output holds its ``lines`` (strings without newlines), ``paragraph_ends`` (the
indices of the lines a paragraph break follows) and ``seed_end``, which says how the first
line follows the seed, and so how lines are joined:

* ``"newline"``: every line ends at a newline (models trained on hard-wrapped text, and
  every story written before lines were sentences): ``"\n".join([seed, *lines])``;
* ``"mid-sentence"``: the first line completes the seed's last sentence and is written
  right after it (it starts with the space, if the model wrote one);
* ``"sentence"``: the seed ended a sentence; the first line follows after a space;
* ``"paragraph"``: the seed ended a paragraph; the first line follows after a blank line.

In the last three, a line is followed by a space, or by ``"\n\n"`` when its index is in
``paragraph_ends``; the separator after the last line is part of the text (it was written
before the line was known to have ended), and the seed counts without trailing whitespace.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

NEWLINE, MID_SENTENCE, SENTENCE, PARAGRAPH = "newline", "mid-sentence", "sentence", "paragraph"
SEED_ENDS = (NEWLINE, MID_SENTENCE, SENTENCE, PARAGRAPH)
_AFTER_SEED = {MID_SENTENCE: "", SENTENCE: " ", PARAGRAPH: "\n\n"}


def story_text(seed: str, lines: Sequence[str], paragraph_ends: Collection[int] = (),
               seed_end: str | None = None) -> str:
    """The story so far (see the module docstring); ``seed_end`` None means ``"newline"``."""
    if not lines:
        return seed.rstrip("\n")
    if seed_end is None or seed_end == NEWLINE:
        return "\n".join([seed.rstrip("\n"), *lines])
    if seed_end not in _AFTER_SEED:
        raise ValueError(f"unknown seed_end {seed_end!r}")
    seed = seed.rstrip()
    parts = [seed, _AFTER_SEED[seed_end] if seed else ""]
    ends = set(paragraph_ends)
    for index, line in enumerate(lines):
        parts += [line, "\n\n" if index in ends else " "]
    return "".join(parts)


def terminal_text(seed: str, lines: Sequence[str], paragraph_ends: Collection[int] = (),
                  seed_end: str | None = None, start: int = 0, with_seed: bool = True) -> str:
    """The story as a terminal shows it (``colab-worker generate``, ``drivequeue status`` and
    ``tail``), from line ``start`` on, as it follows what was shown of the lines before it: the
    seed first (when ``start`` is 0 and ``with_seed``), then each line on a line of its own, after
    a blank line where a paragraph ended; a first line that completes the seed's last sentence
    goes straight after it. No newline at the end: the caller ends the text."""
    parts = [seed.rstrip()] if start == 0 and with_seed else []
    ends = set(paragraph_ends)
    for index in range(start, len(lines)):
        if index > 0:
            lead = "\n\n" if index - 1 in ends else "\n"
        elif seed_end == MID_SENTENCE or not seed.strip():
            lead = ""  # on the seed's line, or there is nothing before it
        else:
            lead = "\n\n" if seed_end == PARAGRAPH else "\n"
        parts.append(lead + lines[index])
    return "".join(parts)
