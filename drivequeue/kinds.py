"""What a job kind is: a name, a versioned and validated payload, and how the queue treats it.

The queue defines no kinds itself; applications declare theirs in plugins
(``drivequeue.plugins``, docs/plugins.md). Each kind has a versioned payload
(``"v"`` inside the payload) with typed, bounded fields and defaults.
A kind may still read older versions (``JobKind.older``), which keep their own
``"v"``. ``validate`` returns the normalized payload that is stored; anything wrong
raises ``InvalidPayload`` with a message meant for the person who typed it.
Payloads are checked again when a job is read; a job whose kind or payload
version a program does not know waits for a worker that serves it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidKey, InvalidPayload, shown
from .files import check_file_name
from .job_ids import parse_job_id
from .status import JobStatus

#: control characters (Unicode category Cc) other than newline and tab
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
KIND_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")

REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One payload field: a checker that returns the clean value, and a default."""

    check: Callable[[str, Any], Any]
    default: Any = REQUIRED

    @property
    def about(self) -> str | None:
        """What the field takes, in words (``check.about``, set by the checkers below)."""
        return getattr(self.check, "about", None)


@dataclass(frozen=True)
class JobKind:
    """A kind of job.

    ``continue_fields``: fields of a ``continue`` request (None: cannot be continued);
    fields left out of a continue keep the first segment's values.
    ``offer_field``: a payload field naming something the claiming worker must offer
    (its heartbeat's ``offers``), e.g. which trained weights to run.
    ``count_field``: a payload field saying how many output lines a segment asks for;
    the claim's ``remaining`` and the status's ``lines_requested`` count them.
    ``max_count``: cap on ``count_field`` summed over all segments.
    ``cancel_fields``: fields a ``cancel`` request may carry (kept in its cancel file).
    ``lines_kept``: ``(cancel options, lines before the segment, lines written) -> lines
    the job keeps`` once its newest segment is cancelled (None: every written line).
    ``older``: the fields of older payload versions that are still read.
    ``description``: what a job of this kind does, in a line (``submit KIND --help``).
    ``serve_by_default``: False for a kind that ``drivequeue worker`` serves only when its
    ``--kinds`` names it (a kind that needs a model or a GPU, such as the story server's).
    ``status_class``: the ``JobStatus`` subclass that ``Queue.status`` answers for jobs of
    this kind, e.g. one that reads the kind's output ``marks`` and ``meta`` its own way.
    ``check``: a rule across the fields of a checked payload (``InvalidPayload`` if it is
    broken), for what one field's checker cannot see alone.
    """

    name: str
    version: int
    fields: Mapping[str, Field]
    continue_fields: Mapping[str, Field] | None = None
    offer_field: str | None = None
    count_field: str | None = None
    max_count: int | None = None
    cancel_fields: Mapping[str, Field] = field(default_factory=dict)
    lines_kept: Callable[[Mapping[str, Any], int, int], int] | None = None
    older: Mapping[int, Mapping[str, Field]] = field(default_factory=dict)
    status_class: type[JobStatus] = JobStatus
    check: Callable[[Mapping[str, Any]], None] | None = None
    serve_by_default: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not KIND_NAME.fullmatch(self.name):
            raise ValueError(f"a job kind's name is a lowercase word of letters, digits, - and _, not {self.name!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"job kind {self.name}: the version must be a whole number from 1")

    @property
    def labels(self) -> list[str]:
        """``name v<version>`` for every payload version it reads, as workers announce them."""
        return [f"{self.name} v{version}" for version in sorted({self.version, *self.older})]

    def serves(self, version: object) -> bool:
        """Whether payloads of ``version`` are read (the current version or an older one)."""
        return isinstance(version, int) and not isinstance(version, bool) and (
            version == self.version or version in self.older)

    def validate(self, payload: object) -> dict[str, Any]:
        clean = _check_fields(self, lambda v: self.fields if v == self.version else self.older[v], payload)
        if self.check is not None:
            self.check(clean)
        return clean

    def validate_continue(self, payload: object) -> dict[str, Any]:
        continue_fields = self.continue_fields
        if continue_fields is None:
            raise InvalidPayload(f"{self.name} jobs cannot be continued")
        return _check_fields(self, lambda v: continue_fields, payload)

    def validate_cancel(self, options: object) -> dict[str, Any]:
        cancel_fields = self.cancel_fields
        return _check_fields(self, lambda v: cancel_fields, options, what="cancel request")

    def kept_after_cancel(self, options: Mapping[str, Any], start: int, written: int) -> int:
        """How many of ``written`` lines stay once the segment that began at line
        ``start`` is cancelled with ``options`` (already validated)."""
        if self.lines_kept is None:
            return written
        return self.lines_kept(options, start, written)

    def wanted(self, payload: Mapping[str, Any]) -> int:
        """How many output lines the segment with ``payload`` asks for (0: not counted)."""
        value = payload.get(self.count_field) if self.count_field else None
        return value if isinstance(value, int) and not isinstance(value, bool) else 0


def get_kind(kinds: Mapping[str, JobKind], name: object) -> JobKind:
    """The kind ``name`` among ``kinds``; ``InvalidPayload`` naming the known ones if there is none."""
    kind = kinds.get(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(sorted(kinds)) or "none: load a plugin that defines one"
        raise InvalidPayload(f"unknown job kind {shown(name)} (known kinds: {known})")
    return kind


def by_name(kinds: Iterable[JobKind]) -> dict[str, JobKind]:
    """``{name: kind}``; ``ValueError`` if two different kinds share a name."""
    found: dict[str, JobKind] = {}
    for kind in kinds:
        if not isinstance(kind, JobKind):
            raise ValueError(f"not a JobKind: {kind!r}")
        if found.get(kind.name, kind) != kind:
            raise ValueError(f"two different definitions of the job kind {kind.name!r}")
        found[kind.name] = kind
    return found


def _check_fields(kind: JobKind, fields_of: Callable[[int], Mapping[str, Field]], payload: object,
                  what: str = "request") -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidPayload(f"a {kind.name} {what} must be a JSON object")
    version = payload.get("v", kind.version)
    if not kind.serves(version):
        raise InvalidPayload(f"unknown {kind.name} payload version {shown(version)} (this program knows {kind.version})")
    fields = fields_of(version)
    unknown = min((str(name) for name in payload if name != "v" and name not in fields), default=None)
    if unknown is not None:
        raise InvalidPayload(f"unknown field {shown(unknown)} in a {kind.name} {what}")
    clean: dict[str, Any] = {"v": version}
    for name, spec in fields.items():
        value = payload.get(name)
        if value is None:
            if spec.default is REQUIRED:
                raise InvalidPayload(f"{name} is required", field=name)
            clean[name] = spec.default
        else:
            try:
                clean[name] = spec.check(name, value)
            except InvalidPayload as exc:
                raise InvalidPayload(str(exc), field=name) from None
    return clean


# -- field checkers -------------------------------------------------------------------
# Each sets ``about``: what it takes, in words, for ``submit KIND --help``.


def _about(words: str) -> Callable[[Callable], Callable]:
    def mark(check: Callable) -> Callable:
        check.about = words
        return check

    return mark


def integer(lo: int, hi: int) -> Callable[[str, Any], int]:
    @_about(f"a whole number from {lo} to {hi}")
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise InvalidPayload(f"{name} must be a whole number from {lo} to {hi}")
        return value

    return check


def number(lo: float, hi: float, *, above_lo: bool = False) -> Callable[[str, Any], float]:
    span = f"above {lo:g} and at most {hi:g}" if above_lo else f"from {lo:g} to {hi:g}"

    @_about(f"a number {span}")
    def check(name: str, value: Any) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            value = float(value)
            ok = (lo < value if above_lo else lo <= value) and value <= hi
        if not ok:
            raise InvalidPayload(f"{name} must be a number {span}")
        return value

    return check


@_about("a whole number")
def whole_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**53:
        raise InvalidPayload(f"{name} must be a whole number")
    return value


@_about("a number")
def any_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidPayload(f"{name} must be a number")
    return float(value)


@_about("true or false")
def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidPayload(f"{name} must be true or false")
    return value


def one_of(choices: Iterable[Any]) -> Callable[[str, Any], Any]:
    choices = tuple(choices)
    words = ", ".join(shown(choice) for choice in choices)

    @_about(f"one of {words}")
    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not any(value == c and type(value) is type(c) for c in choices):
            raise InvalidPayload(f"{name} must be one of {words}")
        return value

    return check


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str, Any], str]:
    @_about(what)
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise InvalidPayload(f"{name} must be {what}")
        return value

    return check


def text(max_chars: int) -> Callable[[str, Any], str]:
    """Any readable text: valid Unicode, no control characters, not blank, at most ``max_chars``;
    line endings become ``\\n``."""

    @_about(f"text of at most {max_chars} characters")
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise InvalidPayload(f"{name} must be text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidPayload(f"{name} is not valid UTF-8 text") from None
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if CONTROL.search(value):
            raise InvalidPayload(f"{name} contains control characters")
        if not value.strip():
            raise InvalidPayload(f"{name} is blank: it needs at least one character that is not a space")
        if len(value) > max_chars:
            raise InvalidPayload(f"{name} is longer than {max_chars} characters")
        return value

    return check


def job_id(what: str = "job") -> Callable[[str, Any], str]:
    """A public job id (e.g. of the job this one was made from)."""

    @_about(f"a {what} id")
    def check(name: str, value: Any) -> str:
        try:
            parse_job_id(value)
        except InvalidKey:
            raise InvalidPayload(f"{name} is not a valid {what} id") from None
        return value

    return check


@_about("the name of a pushed file (drivequeue push), such as data/input.txt")
def pushed_file_name(name: str, value: Any) -> str:
    """A name ``drivequeue push`` accepts, such as ``data/input.txt``."""
    try:
        return check_file_name(value)
    except InvalidKey:
        raise InvalidPayload(f"{name} must be the name of a pushed file: letters, digits, '.', '_' and '-', "
                             "parts separated by '/'") from None
