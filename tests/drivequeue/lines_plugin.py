"""The queue tests' own job kinds, so that the queue is tested without any application's:

* ``lines``: a job that writes ``count`` lines; it is served only by a worker offering its
  ``tool``, can be continued and cut short (a cancel's ``keep``), reads an older payload
  version, and shows its output notes its own way (``LinesStatus``);
* ``note``: a one-off job.

A plugin module (``KINDS``), so the command-line tests load it too (``--plugin``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drivequeue import Field, JobKind, JobStatus
from drivequeue.kinds import integer, matching, number, text

TOOL = re.compile(r"[a-z][a-z0-9-]{0,19}")
MAX_COUNT = 20
#: lines over every segment of one job
MAX_LINES = 60


def kept_lines(options: Mapping[str, Any], start: int, written: int) -> int:
    """A cancel with ``keep`` keeps that many lines of the job, never fewer than its earlier
    segments wrote."""
    keep = options.get("keep")
    return written if keep is None else max(start, min(written, keep))


class LinesStatus(JobStatus):
    """A ``lines`` job's status: its output marks ``breaks`` and its meta ``ending`` shown under
    names of its own, and a blank line after each break when printed."""

    def to_dict(self) -> dict[str, Any]:
        shown = super().to_dict()
        del shown["marks"], shown["meta"]
        shown["breaks"] = list(self.marks.get("breaks", ()))
        shown["ending"] = self.meta.get("ending")
        return shown

    def printed(self) -> str:
        breaks = set(self.marks.get("breaks", ()))
        return "".join(("" if index == self.after else "\n\n" if index - 1 in breaks else "\n") + line
                       for index, line in enumerate(self.lines, start=self.after))


FIELDS = {
    "text": Field(text(200)),
    "count": Field(integer(1, MAX_COUNT), 3),
    "pace": Field(number(0.1, 2.0), 1.0),
    "step": Field(integer(0, 10), 0),
    "tool": Field(matching(TOOL, "a tool name: a lowercase word"), "default"),
}

LINES = JobKind(
    name="lines",
    version=2,
    fields=FIELDS,
    older={1: {**FIELDS, "pace": Field(number(0.1, 2.0), 0.5)}},
    continue_fields={
        "count": FIELDS["count"],
        "pace": Field(FIELDS["pace"].check, None),
        "step": Field(FIELDS["step"].check, None),
    },
    offer_field="tool",
    count_field="count",
    max_count=MAX_LINES,
    cancel_fields={"keep": Field(integer(0, 10**6), None)},
    lines_kept=kept_lines,
    status_class=LinesStatus,
)

NOTE = JobKind(name="note", version=1, fields={"text": Field(text(200))})

KINDS = [LINES, NOTE]
#: what ``Queue(store, timing, kinds=...)`` takes
BY_NAME = {kind.name: kind for kind in KINDS}
