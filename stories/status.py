"""``StoryStatus``: a story job's status, read the story's way.

A story's output ``marks`` and ``meta`` are served as ``paragraph_ends`` (indices into
every line of the lines a paragraph break follows, those from ``after`` on) and
``seed_end`` (how the first line follows the seed, ``stories.story_text``; None until
there is a line), in place of ``marks`` and ``meta``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from drivequeue.status import EMPTY, JobStatus

from .story_text import NEWLINE, SEED_ENDS, story_text, terminal_text

#: the output mark naming the lines a paragraph break follows
PARAGRAPH_ENDS = "paragraph_ends"


@dataclass(frozen=True)
class StoryStatus(JobStatus):
    """``StoryStatus.of(status)`` reads any job's status as a story's: a job file that cannot
    be read shows as a failed story with an empty request (``payload``)."""

    @property
    def paragraph_ends(self) -> tuple[int, ...]:
        return tuple(self.marks.get(PARAGRAPH_ENDS, ()))

    @property
    def seed_end(self) -> str | None:
        if not self.line_count:
            return None
        seed_end = self.meta.get("seed_end")
        return seed_end if seed_end in SEED_ENDS else NEWLINE

    @property
    def seed(self) -> str:
        return (self.payload or {}).get("seed", "")

    def text(self) -> str:
        """The whole story as plain text, as the model read it (``stories.story_text``)."""
        if self.after:
            raise ValueError("the text of a story needs all its lines: read its status with after=0")
        return story_text(self.seed, self.lines, self.paragraph_ends, self.seed_end)

    def printed(self) -> str:
        """The story as ``colab-worker generate`` prints it (``stories.story_text.terminal_text``):
        its seed, then a line each; from line ``after`` on, without the seed."""
        if not self.after:
            return terminal_text(self.seed, self.lines, self.paragraph_ends, self.seed_end)
        lines = [""] * self.after + list(self.lines)  # only those from ``after`` are shown
        return terminal_text(self.seed, lines, self.paragraph_ends, self.seed_end, start=self.after,
                             with_seed=False).lstrip("\n")

    def to_dict(self) -> dict[str, Any]:
        shown = super().to_dict()
        del shown["marks"], shown["meta"]
        shown["paragraph_ends"] = list(self.paragraph_ends)
        shown["seed_end"] = self.seed_end
        return shown

    @classmethod
    def of(cls, status: JobStatus) -> StoryStatus:
        story = super().of(status)
        return replace(story, payload=EMPTY) if story.payload is None else story
