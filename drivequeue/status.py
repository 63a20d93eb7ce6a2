"""``JobStatus``: what ``Queue.status`` answers, one frozen object per read.

Code reads its attributes (``status.state``, ``status.lines``...); ``to_dict()`` turns
it into the JSON object that the edges serve (the web API, the stream,
``drivequeue status --json``), and ``status["field"]`` reads one field of that object.
A job kind may name a subclass (``JobKind.status_class``) that reads the kind's own
output ``marks`` and ``meta`` and serves them under names of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class WorkerInfo:
    """The worker running a job. ``last_seen``: its heartbeat's own wall-clock time (a new
    observer trusts a lease for one lease period, so this is what says a worker that died
    long ago is gone)."""

    id: str
    host: str
    device: str
    last_seen: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "host": self.host, "device": self.device, "last_seen": self.last_seen}


@dataclass(frozen=True)
class JobStatus:
    """A job as one observer saw it (docs/protocol.md, "Python API").

    ``lines`` are the lines after the first ``after``; ``marks`` keep only the indices
    (into every line) from ``after`` on; ``line_count`` counts every line. What is passed
    in is copied read-only.
    """

    id: str
    kind: str | None
    state: JobState
    #: cancelled, but the worker has not ended its claim yet
    stopping: bool = False
    lines: tuple[str, ...] = ()
    after: int = 0
    line_count: int = 0
    #: output lines asked for over every segment (kinds with a ``count_field``)
    lines_requested: int = 0
    marks: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: EMPTY)
    meta: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    error: str | None = None
    #: 1-based, while queued
    queue_position: int | None = None
    attempt: int = 0
    worker: WorkerInfo | None = None
    #: whatever the worker last reported, while the job runs
    progress: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    created: float | None = None
    #: the validated first request; None when the job file cannot be read
    payload: Mapping[str, Any] | None = None
    segments: int = 1
    parent: str | None = None
    #: while queued: the kind and version that no program that read it serves
    waiting_for: str | None = None
    #: once done
    result: Any = None
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # read-only copies, whatever was passed: a status may be shared between threads
        fix = partial(object.__setattr__, self)
        fix("lines", tuple(self.lines))
        fix("files", tuple(self.files))
        fix("marks", MappingProxyType({name: tuple(i for i in indices if i >= self.after)
                                       for name, indices in self.marks.items()}))
        fix("meta", _read_only(self.meta))
        fix("progress", _read_only(self.progress))
        if self.payload is not None:
            fix("payload", _read_only(self.payload))

    @property
    def settled(self) -> bool:
        """Finished, and no worker is still ending it: nothing about it changes any more
        (until it is continued)."""
        return self.state.finished and not self.stopping

    def since(self, after: int) -> JobStatus:
        """The same status with only the lines (and marks) from line ``after`` on
        (``after`` at least this status's own)."""
        if after < self.after:
            raise ValueError(f"this status holds the lines after {self.after}, not after {after}")
        return replace(self, lines=self.lines[after - self.after:], after=after)

    def printed(self) -> str:
        """The job's output (its lines after ``after``) as a terminal shows it (``drivequeue status``
        and ``tail``): a line each, no newline at the end. A kind's status class may print its own
        way (a story: its seed first)."""
        return "\n".join(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this status is at the edges (docs/protocol.md lists its fields)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.state.value,
            "stopping": self.stopping,
            "lines": list(self.lines),
            "after": self.after,
            "marks": {name: list(indices) for name, indices in self.marks.items()},
            "meta": dict(self.meta),
            "line_count": self.line_count,
            "lines_requested": self.lines_requested,
            "error": self.error,
            "queue_position": self.queue_position,
            "attempt": self.attempt,
            "worker": self.worker.to_dict() if self.worker is not None else None,
            "progress": dict(self.progress),
            "created": self.created,
            "payload": dict(self.payload) if self.payload is not None else None,
            "segments": self.segments,
            "parent": self.parent,
            "waiting_for": self.waiting_for,
            "result": self.result,
            "files": list(self.files),
        }

    def __getitem__(self, name: str) -> Any:
        """``status["field"]``: one field of ``to_dict()`` (``KeyError`` if there is none)."""
        return self.to_dict()[name]

    #: not a mapping: ``to_dict()`` is (without this, ``__getitem__`` would make it iterate 0, 1...)
    __iter__ = None

    @classmethod
    def of(cls, status: JobStatus) -> JobStatus:
        """``status`` read as this class reads a job (the same fields)."""
        if type(status) is cls:
            return status
        return cls(**{name: getattr(status, name) for name in cls.__dataclass_fields__})


def _read_only(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping if isinstance(mapping, MappingProxyType) else MappingProxyType(dict(mapping))
