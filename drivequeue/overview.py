"""One look at the whole queue for whoever runs it: the workers, the jobs by kind and state, the
jobs that failed recently, the jobs no online worker serves, and the throughput of the last hour.

It is taken from one scan of the jobs and one read of each heartbeat, so an
observer that follows the changes feed (``Queue.follow_changes``) pays on Drive
only for the files that changed since its last look. The operator's web page,
``/metrics`` and ``drivequeue top`` all show it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .state import JobState, JobView
from .who_serves import unserved

#: the throughput covers this many minutes, one bucket a minute
HOUR_MINUTES = 60
#: failed jobs shown, newest first
RECENT_FAILURES = 20
#: the kind shown for a job whose file cannot be read (a real kind's name never holds it)
UNREADABLE = "?"


@dataclass(frozen=True)
class Ended:
    """A job whose newest segment has ended, with the times that measure it.

    ``queued``: when the segment was asked for (the producer's clock); ``started``: its
    first claim (the claimer's clock; None if nothing claimed it); ``ended``: the last
    write of its output (the worker's clock).
    """

    key: str
    kind: str
    segment: int
    state: str
    queued: float
    started: float | None
    ended: float
    lines: int


@dataclass(frozen=True)
class Failure:
    key: str
    kind: str
    error: str
    attempt: int  # the newest claim's attempt number (0: the job never ran)
    ended: float


@dataclass(frozen=True)
class Waiting:
    """A queued job that no online worker can take: ``needs`` says what it waits for."""

    key: str
    kind: str
    needs: str
    since: float


@dataclass(frozen=True)
class Overview:
    """The queue at ``taken`` (this machine's clock)."""

    taken: float
    #: ``Queue.workers(unreadable=True)``: online first, unreadable heartbeats last
    workers: list[dict[str, Any]]
    #: kind -> state -> jobs, every state present
    counts: dict[str, dict[str, int]]
    failures: list[Failure]
    waiting: list[Waiting]
    #: per minute of the last hour, oldest first: jobs ended ``done``, ``failed``, ``cancelled``,
    #: and the ``lines`` those jobs wrote
    throughput: dict[str, list[int]]
    #: every job that has ended (for counters and histograms; not shown)
    ended: list[Ended] = field(repr=False)

    @property
    def online(self) -> int:
        return sum(1 for worker in self.workers if worker.get("online"))

    def as_json(self) -> dict[str, Any]:
        """What ``drivequeue top --json`` prints."""
        values = asdict(self)
        del values["ended"]
        return values


def take(queue, now: float | None = None) -> Overview:
    """Look at ``queue`` once."""
    now = time.time() if now is None else now
    workers = queue.workers(unreadable=True)
    views = queue.reader.scan()
    counts: dict[str, dict[str, int]] = {}
    ended = []
    failures = []
    for view in views:
        kind = _kind(view)
        counts.setdefault(kind, dict.fromkeys((state.value for state in JobState), 0))[view.state.value] += 1
        if view.state.finished and not view.stopping:
            ended.append(_ended(view, kind))
            if view.state is JobState.FAILED:
                failures.append(Failure(view.key, kind, view.error or "", view.attempt, ended[-1].ended))
    failures.sort(key=lambda failure: failure.ended, reverse=True)
    online = [worker for worker in workers if worker.get("online")]
    waiting = [Waiting(view.key, _kind(view), needs, view.queued_since) for view in views
               if view.state is JobState.QUEUED and (needs := unserved(view, online))]
    return Overview(taken=now, workers=workers, counts=counts, failures=failures[:RECENT_FAILURES],
                    waiting=waiting, throughput=_throughput(ended, now), ended=ended)


def _kind(view: JobView) -> str:
    return view.job.kind if view.job is not None else UNREADABLE


def _ended(view: JobView, kind: str) -> Ended:
    segment = view.segment_count
    starts = [claim.time for claim in view.claims if claim.segment == segment]
    output = view.output
    return Ended(key=view.key, kind=kind, segment=segment, state=view.state.value, queued=view.queued_since,
                 started=min(starts) if starts else None,
                 ended=output.time if output is not None else view.queued_since,
                 lines=max(0, len(view.lines) - view.segment_start))


def _throughput(ended: list[Ended], now: float) -> dict[str, list[int]]:
    start = now - HOUR_MINUTES * 60
    buckets = {name: [0] * HOUR_MINUTES for name in ("done", "failed", "cancelled", "lines")}
    for job in ended:
        if job.ended < start:
            continue
        minute = min(HOUR_MINUTES - 1, int((job.ended - start) // 60))  # a clock ahead of ours: now
        buckets[job.state][minute] += 1
        buckets["lines"][minute] += job.lines
    return buckets
