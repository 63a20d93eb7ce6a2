"""The files of the protocol (docs/protocol.md): JSON encoding, record types, public ids.

Every record is a JSON object with ``"v": PROTOCOL_VERSION`` and ``"type"``.
Parsing checks every field, so the rest of the package works on well-formed
records and a damaged file surfaces as one ``CorruptRecord`` with a reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from . import bounded_json
from .errors import CorruptRecord, InvalidKey

PROTOCOL_VERSION = 1

#: a public job id is ``<job key>.<secret>``; web routes match the same text (``JOB_ID_REGEX``)
JOB_KEY_REGEX = r"[A-Za-z0-9_-]{1,100}"
JOB_ID_REGEX = rf"{JOB_KEY_REGEX}\.[A-Za-z0-9_-]{{22,64}}"
JOB_ID_PATTERN = re.compile(rf"({JOB_KEY_REGEX})\.([A-Za-z0-9_-]{{22,64}})")
MAX_JOB_ID_LENGTH = 165

#: states an output file can hold; all but "running" are final for that claim
OUTPUT_STATES = ("running", "done", "failed", "cancelled", "released", "crashed")


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes) -> dict[str, Any]:
    """Parse one record; ``CorruptRecord`` unless it is a UTF-8 JSON object."""
    try:
        value = bounded_json.loads(data)
    except bounded_json.JsonRefused as exc:
        raise CorruptRecord(f"the file {exc}") from None
    if not isinstance(value, dict):
        raise CorruptRecord("the file does not hold a JSON object")
    return value


# -- public job ids ----------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(16)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def make_job_id(key: str, secret: str) -> str:
    return f"{key}.{secret}"


def parse_job_id(job_id: object) -> tuple[str, str]:
    """Split a public id into (store key, secret); ``InvalidKey`` if malformed."""
    if not isinstance(job_id, str) or len(job_id) > MAX_JOB_ID_LENGTH:
        raise InvalidKey("malformed job id")
    match = JOB_ID_PATTERN.fullmatch(job_id)
    if match is None:
        raise InvalidKey("malformed job id")
    return match.group(1), match.group(2)


def secret_matches(secret: str, secret_hash: object) -> bool:
    if not isinstance(secret_hash, str):
        return False
    return hmac.compare_digest(hash_secret(secret), secret_hash)


# -- field checking ------------------------------------------------------------------


def _get(raw: dict[str, Any], name: str, kind: type | tuple[type, ...], *, optional: bool = False):
    value = raw.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise CorruptRecord(f"field {name!r} has the wrong type")
    if not isinstance(value, kind):
        raise CorruptRecord(f"field {name!r} is missing or has the wrong type")
    return value


def _envelope(raw: dict[str, Any], type_name: str) -> None:
    version = raw.get("v")
    if version != PROTOCOL_VERSION:
        raise CorruptRecord(f"unknown protocol version {version!r} (this program speaks {PROTOCOL_VERSION})")
    if raw.get("type") != type_name:
        raise CorruptRecord(f"expected a {type_name} file, found {raw.get('type')!r}")


def _record(type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": type_name, **values}


NUMBER = (int, float)


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
            kind=_get(raw, "kind", str),
            payload=_get(raw, "payload", dict),
            secret_hash=_get(raw, "secret_hash", str),
            created=float(_get(raw, "created", NUMBER)),
            claim_key=_get(raw, "claim_key", str),
            cancel_key=_get(raw, "cancel_key", str),
            next_segment_key=_get(raw, "next_segment_key", str),
            parent=_get(raw, "parent", str, optional=True),
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
            job=_get(raw, "job", str),
            index=_get(raw, "index", int),
            payload=_get(raw, "payload", dict),
            created=float(_get(raw, "created", NUMBER)),
            cancel_key=_get(raw, "cancel_key", str),
            next_segment_key=_get(raw, "next_segment_key", str),
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
        return cls(job=_get(raw, "job", str), segment=_get(raw, "segment", int),
                   time=float(_get(raw, "time", NUMBER)),
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
            job=_get(raw, "job", str),
            segment=_get(raw, "segment", int),
            attempt=_get(raw, "attempt", int),
            worker=_get(raw, "worker", str, optional=True),
            worker_id=_get(raw, "worker_id", str),
            output_key=_get(raw, "output_key", str),
            next_claim_key=_get(raw, "next_claim_key", str),
            time=float(_get(raw, "time", NUMBER)),
            beat=_get(raw, "beat", int),
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
        if not all(isinstance(end, int) and not isinstance(end, bool) for end in ends):
            raise CorruptRecord("output segment ends must be integers")
        marks = _get(raw, "marks", dict, optional=True) or {}
        if not all(isinstance(indices, list) and all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(lines) for i in indices)
                for indices in marks.values()):
            raise CorruptRecord("output marks must be lists of indices of its lines")
        if state not in OUTPUT_STATES:
            raise CorruptRecord(f"unknown output state {state!r}")
        return cls(
            job=_get(raw, "job", str),
            claim=_get(raw, "claim", str),
            attempt=_get(raw, "attempt", int),
            segment=_get(raw, "segment", int),
            lines=lines,
            ends=ends,
            marks={name: sorted(set(indices)) for name, indices in marks.items()},
            meta=_get(raw, "meta", dict, optional=True) or {},
            state=state,
            error=_get(raw, "error", str, optional=True),
            progress=_get(raw, "progress", dict),
            time=float(_get(raw, "time", NUMBER)),
            result=raw.get("result"),
            files=[name for name in _get(raw, "files", list, optional=True) or [] if isinstance(name, str)],
        )


@dataclass
class WorkerRecord:
    """A worker's heartbeat file: who it is, what it serves, and a counter that moves.

    ``kinds``: the kinds it serves, as ``name v<version>``; ``offers``: what it can
    supply for a kind's ``offer_field`` (e.g. names of trained weights).
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
    protocol: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        values = asdict(self)
        del values["protocol"]  # written as the record's "v"
        return encode(_record("worker", values))

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> WorkerRecord:
        if raw.get("type") != "worker":
            raise CorruptRecord(f"expected a worker file, found {raw.get('type')!r}")
        # workers of other protocol versions still show up in the registry
        return cls(
            id=_get(raw, "id", str),
            host=_get(raw, "host", str),
            device=_get(raw, "device", str),
            offers=[m for m in _get(raw, "offers", list, optional=True) or [] if isinstance(m, str)],
            kinds=[k for k in _get(raw, "kinds", list) if isinstance(k, str)],
            version=_get(raw, "version", str),
            started=float(_get(raw, "started", NUMBER)),
            beat=_get(raw, "beat", int),
            time=float(_get(raw, "time", NUMBER)),
            claims=[c for c in _get(raw, "claims", list) if isinstance(c, str)],
            state=_get(raw, "state", str),
            protocol=_get(raw, "v", int),
        )
