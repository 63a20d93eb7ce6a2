"""The files of the protocol (docs/protocol.md): record types and their JSON encoding.

Every record is a JSON object with ``"v": PROTOCOL_VERSION`` and ``"type"``.
Parsing checks every field, so the rest of the package works on well-formed
records and a damaged file surfaces as one ``CorruptRecord`` with a reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from . import bounded_json
from .errors import CorruptRecord, shown
from .job_ids import JOB_ID_PATTERN
from .store import KEY_PATTERN, MAX_READ_BYTES
from .worker_report import parse_report

PROTOCOL_VERSION = 1

#: states an output file can hold; all but "running" are final for that claim
OUTPUT_STATES = ("running", "done", "failed", "cancelled", "released", "crashed")


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes) -> dict[str, Any]:
    """Parse one record; ``CorruptRecord`` unless it is a UTF-8 JSON object."""
    if len(data) > MAX_RECORD_BYTES:
        raise CorruptRecord(f"the file is larger than {MAX_RECORD_BYTES // 2**20} MiB")
    try:
        value = bounded_json.loads(data)
    except bounded_json.JsonRefused as exc:
        raise CorruptRecord(f"the file {exc}") from None
    if not isinstance(value, dict):
        raise CorruptRecord("the file does not hold a JSON object")
    return value


# -- field checking: every value is bounded, so a hostile file is one CorruptRecord ------------

#: larger than any record this program writes (an output of 1,000 lines of 1,000 characters):
#: what a store's ``read`` takes by default, refusing bigger files before reading them
MAX_RECORD_BYTES = MAX_READ_BYTES
#: wall-clock times up to the year 5138; counters up to what a float holds exactly
MAX_TIME = 1e11
MAX_COUNT = 2**53
MAX_TEXT = 200
NUMBER = (int, float)


def _get(raw: dict[str, Any], name: str, kind: type | tuple[type, ...], *, optional: bool = False):
    value = raw.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise CorruptRecord(f"field {name!r} has the wrong type")
    if not isinstance(value, kind):
        raise CorruptRecord(f"field {name!r} is missing or has the wrong type")
    return value


def _time(raw: dict[str, Any], name: str) -> float:
    value = _get(raw, name, NUMBER)
    if not 0 <= value <= MAX_TIME:  # also false for NaN; huge integers are compared, not converted
        raise CorruptRecord(f"field {name!r} is not a plausible time")
    return float(value)


def _count(raw: dict[str, Any], name: str, low: int = 0) -> int:
    value = _get(raw, name, int)
    if not low <= value <= MAX_COUNT:
        raise CorruptRecord(f"field {name!r} is out of range")
    return value


def _key(raw: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = _get(raw, name, str, optional=optional)
    if value is not None and not KEY_PATTERN.fullmatch(value):
        raise CorruptRecord(f"field {name!r} is not a store key")
    return value


def _text(raw: dict[str, Any], name: str) -> str:
    value = _get(raw, name, str)
    if len(value) > MAX_TEXT:
        raise CorruptRecord(f"field {name!r} is longer than {MAX_TEXT} characters")
    return value


def _texts(raw: dict[str, Any], name: str) -> list[str]:
    """A list of short strings; other items are left out (a newer writer's additions)."""
    return [item for item in _get(raw, name, list) if isinstance(item, str) and len(item) <= MAX_TEXT]


def _progress(raw: dict[str, Any]) -> dict[str, Any]:
    """A worker's progress report: short names of plain values; other items are left out
    (a number too large to print, a nested value)."""
    def plain(value: object) -> bool:
        if value is None or isinstance(value, bool):
            return True
        if isinstance(value, str):
            return len(value) <= MAX_TEXT
        return isinstance(value, NUMBER) and -MAX_COUNT <= value <= MAX_COUNT  # not NaN or infinite

    return {name: value for name, value in _get(raw, "progress", dict).items()
            if len(name) <= 40 and plain(value)}


def _job_id(raw: dict[str, Any], name: str) -> str | None:
    value = _get(raw, name, str, optional=True)
    if value is not None and not JOB_ID_PATTERN.fullmatch(value):
        raise CorruptRecord(f"field {name!r} is not a job id")
    return value


def _envelope(raw: dict[str, Any], type_name: str) -> None:
    version = raw.get("v")
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise CorruptRecord(f"unknown protocol version {shown(version)} (this program speaks {PROTOCOL_VERSION})")
    if raw.get("type") != type_name:
        raise CorruptRecord(f"expected a {type_name} file, found {shown(raw.get('type'))}")


def _record(type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": type_name, **values}


@dataclass(frozen=True)
class JobRecord:
    """The immutable request: kind, first-segment payload and the keys reserved for it."""

    kind: str
    payload: dict[str, Any]
    secret_hash: str
    created: float
    claim_key: str
    cancel_key: str
    next_segment_key: str
    parent: str | None = None

    def to_bytes(self) -> bytes:
        return encode(_record("job", asdict(self)))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> JobRecord:
        _envelope(raw, "job")
        return cls(
            kind=_text(raw, "kind"),
            payload=_get(raw, "payload", dict),
            secret_hash=_get(raw, "secret_hash", str),
            created=_time(raw, "created"),
            claim_key=_key(raw, "claim_key"),
            cancel_key=_key(raw, "cancel_key"),
            next_segment_key=_key(raw, "next_segment_key"),
            parent=_job_id(raw, "parent"),
        )


@dataclass(frozen=True)
class SegmentRecord:
    """An immutable extension of a job (``continue``): more lines, maybe other knobs."""

    job: str
    index: int
    payload: dict[str, Any]
    created: float
    cancel_key: str
    next_segment_key: str

    def to_bytes(self) -> bytes:
        return encode(_record("segment", asdict(self)))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SegmentRecord:
        _envelope(raw, "segment")
        return cls(
            job=_key(raw, "job"),
            index=_count(raw, "index", low=2),
            payload=_get(raw, "payload", dict),
            created=_time(raw, "created"),
            cancel_key=_key(raw, "cancel_key"),
            next_segment_key=_key(raw, "next_segment_key"),
        )


@dataclass(frozen=True)
class CancelRecord:
    """A request to stop a job's segment; ``options`` are checked by the job's kind
    (e.g. how many lines the reader had seen)."""

    job: str
    segment: int
    time: float
    options: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return encode(_record("cancel", asdict(self)))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> CancelRecord:
        _envelope(raw, "cancel")
        return cls(job=_key(raw, "job"), segment=_count(raw, "segment", low=1),
                   time=_time(raw, "time"),
                   options=_get(raw, "options", dict, optional=True) or {})


@dataclass(frozen=True)
class ClaimRecord:
    """One attempt at a job's newest segment, won by creating the reserved key.

    ``worker`` is the key of the holder's heartbeat file (None for ``gc``, which
    claims a job only to fail it); ``output_key`` is the holder's own output;
    ``beat``: the holder's heartbeat counter when it claimed (every later
    heartbeat lists the claims the worker still holds).
    """

    job: str
    segment: int
    attempt: int
    worker: str | None
    worker_id: str
    output_key: str
    next_claim_key: str
    time: float
    beat: int = 0

    def to_bytes(self) -> bytes:
        return encode(_record("claim", asdict(self)))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ClaimRecord:
        _envelope(raw, "claim")
        return cls(
            job=_key(raw, "job"),
            segment=_count(raw, "segment", low=1),
            attempt=_count(raw, "attempt", low=1),
            worker=_key(raw, "worker", optional=True),
            worker_id=_text(raw, "worker_id"),
            output_key=_key(raw, "output_key"),
            next_claim_key=_key(raw, "next_claim_key"),
            time=_time(raw, "time"),
            beat=_count(raw, "beat"),
        )


@dataclass
class OutputRecord:
    """What one claim holder has produced; only that holder writes it.

    ``lines`` holds every line of the job so far (the new holder copies the
    previous output's lines when it claims); ``ends[i]`` is the line count at
    which segment ``i + 1`` ended; ``marks`` are named sets of line indices (a
    kind's own notes on its lines, e.g. which lines a paragraph break follows)
    and ``meta`` a JSON object of the handler's (both read through the kind's
    view); ``result`` is the handler's JSON result and ``files`` the names of the
    result files it attached (``files.result_name``).
    """

    job: str
    claim: str
    attempt: int
    segment: int
    lines: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    marks: dict[str, list[int]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    state: str = "running"
    error: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0
    result: Any = None
    files: list[str] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.state != "running"

    def to_bytes(self) -> bytes:
        return encode(_record("output", asdict(self)))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> OutputRecord:
        _envelope(raw, "output")
        lines = _get(raw, "lines", list)
        ends = _get(raw, "ends", list)
        state = _get(raw, "state", str)
        if not all(isinstance(line, str) for line in lines):
            raise CorruptRecord("output lines must be strings")
        if not all(isinstance(end, int) and not isinstance(end, bool) and 0 <= end <= len(lines) for end in ends):
            raise CorruptRecord("output segment ends must be line counts")
        marks = _get(raw, "marks", dict, optional=True) or {}
        if not all(len(name) <= MAX_TEXT and isinstance(indices, list) and all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(lines) for i in indices)
                for name, indices in marks.items()):
            raise CorruptRecord("output marks must be lists of indices of its lines")
        if state not in OUTPUT_STATES:
            raise CorruptRecord(f"unknown output state {shown(state)}")
        return cls(
            job=_key(raw, "job"),
            claim=_key(raw, "claim"),
            attempt=_count(raw, "attempt", low=1),
            segment=_count(raw, "segment", low=1),
            lines=lines,
            ends=ends,
            marks={name: sorted(set(indices)) for name, indices in marks.items()},
            meta=_get(raw, "meta", dict, optional=True) or {},
            state=state,
            error=_get(raw, "error", str, optional=True),
            progress=_progress(raw),
            time=_time(raw, "time"),
            result=raw.get("result"),
            files=_texts(raw, "files") if raw.get("files") is not None else [],
        )


@dataclass
class WorkerRecord:
    """A worker's heartbeat file: who it is, what it serves, and a counter that moves.

    ``kinds``: the kinds it serves, as ``name v<version>``; ``offers``: what it can
    supply for a kind's ``offer_field`` (e.g. names of trained weights); ``report``: what
    only the worker knows, its device's memory and its work per kind (``worker_report``).
    """

    id: str
    host: str
    device: str
    offers: list[str]
    kinds: list[str]
    version: str
    started: float
    beat: int = 0
    time: float = 0.0
    claims: list[str] = field(default_factory=list)
    state: str = "idle"
    report: dict[str, Any] = field(default_factory=dict)
    protocol: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        values = asdict(self)
        del values["protocol"]  # written as the record's "v"
        return encode(_record("worker", values))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> WorkerRecord:
        if raw.get("type") != "worker":
            raise CorruptRecord(f"expected a worker file, found {shown(raw.get('type'))}")
        # workers of other protocol versions still show up in the registry
        return cls(
            id=_text(raw, "id"),
            host=_text(raw, "host"),
            device=_text(raw, "device"),
            offers=_texts(raw, "offers") if raw.get("offers") is not None else [],
            kinds=_texts(raw, "kinds"),
            version=_text(raw, "version"),
            started=_time(raw, "started"),
            beat=_count(raw, "beat"),
            time=_time(raw, "time"),
            claims=_texts(raw, "claims"),
            state=_text(raw, "state"),
            report=parse_report(raw.get("report")),
            protocol=_count(raw, "v"),
        )
