"""Job kinds and their payloads: what a request may hold, checked before it is queued.

Each kind has a versioned payload (``"v"`` inside the payload) with typed,
bounded fields and defaults; a kind may still read older versions
(``JobKind.older``), which keep their own ``"v"``. ``validate`` returns the normalized payload that
is stored; anything wrong raises ``InvalidPayload`` with a message meant for the
person who typed it. Payloads are checked again when a job is read, so a file
from a newer producer fails that job with a reason instead of being misread.

Adding a kind: build a ``JobKind`` and ``register`` it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidKey, InvalidPayload
from .files import check_file_name
from .records import parse_job_id, shown

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_SEED_CHARS = 4000
#: larger than any story (``STORY.max_lines``), small enough to store as a plain number
MAX_SEEN = 1_000_000
#: control characters (Unicode category Cc) other than newline and tab
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One payload field: a checker that returns the clean value, and a default."""

    check: Callable[[str, Any], Any]
    default: Any = REQUIRED


@dataclass(frozen=True)
class JobKind:
    """A kind of job.

    ``needs_model``: the payload's ``model`` must be one the claiming worker serves.
    ``continue_fields``: fields of a ``continue`` request (None: cannot be continued).
    ``max_lines``: cap on ``lines`` summed over all segments.
    ``cancel_fields``: fields a ``cancel`` request may carry (kept in its cancel file).
    ``lines_kept``: ``(cancel options, lines before the segment, lines written) -> lines
    the job keeps`` once its newest segment is cancelled (None: every written line).
    ``older``: the fields of older payload versions that are still read.
    """

    name: str
    version: int
    fields: Mapping[str, Field]
    continue_fields: Mapping[str, Field] | None = None
    needs_model: bool = False
    max_lines: int | None = None
    cancel_fields: Mapping[str, Field] = field(default_factory=dict)
    lines_kept: Callable[[Mapping[str, Any], int, int], int] | None = None
    older: Mapping[int, Mapping[str, Field]] = field(default_factory=dict)

    def validate(self, payload: object) -> dict[str, Any]:
        return _check_fields(self, lambda v: self.fields if v == self.version else self.older[v], payload)

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


def _check_fields(kind: JobKind, fields_of: Callable[[int], Mapping[str, Field]], payload: object,
                  what: str = "request") -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidPayload(f"a {kind.name} {what} must be a JSON object")
    version = payload.get("v", kind.version)
    if not isinstance(version, int) or isinstance(version, bool) or (
            version != kind.version and version not in kind.older):
        raise InvalidPayload(f"unknown {kind.name} payload version {shown(version)} (this program knows {kind.version})")
    fields = fields_of(version)
    unknown = sorted(str(name) for name in payload if name != "v" and name not in fields)
    if unknown:
        raise InvalidPayload(f"unknown field {shown(unknown[0])} in a {kind.name} {what}")
    clean: dict[str, Any] = {"v": version}
    for name, spec in fields.items():
        value = payload.get(name)
        if value is None:
            if spec.default is REQUIRED:
                raise InvalidPayload(f"{name} is required")
            clean[name] = spec.default
        else:
            clean[name] = spec.check(name, value)
    return clean


# -- field checkers -------------------------------------------------------------------


def integer(lo: int, hi: int) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise InvalidPayload(f"{name} must be a whole number from {lo} to {hi}")
        return value

    return check


def number(lo: float, hi: float, *, above_lo: bool = False) -> Callable[[str, Any], float]:
    def check(name: str, value: Any) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            value = float(value)
            ok = (lo < value if above_lo else lo <= value) and value <= hi
        if not ok:
            low = f"above {lo:g}" if above_lo else f"from {lo:g}"
            raise InvalidPayload(f"{name} must be a number {low} to {hi:g}")
        return value

    return check


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise InvalidPayload(f"{name} must be {what}")
        return value

    return check


def story_text(name: str, value: Any) -> str:
    """Any readable text: valid Unicode, no control characters, not blank, not too long."""
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
        raise InvalidPayload(f"{name} is empty")
    if len(value) > MAX_SEED_CHARS:
        raise InvalidPayload(f"{name} is longer than {MAX_SEED_CHARS} characters")
    return value


def job_id(name: str, value: Any) -> str:
    try:
        parse_job_id(value)
    except InvalidKey:
        raise InvalidPayload(f"{name} is not a valid story id") from None
    return value


def pushed_file_name(name: str, value: Any) -> str:
    """A name ``drivequeue push`` accepts, such as ``corpora/grimm.txt``."""
    try:
        return check_file_name(value)
    except InvalidKey:
        raise InvalidPayload(f"{name} must be the name of a pushed file: letters, digits, '.', '_' and '-', "
                             "parts separated by '/'") from None


def model_name(name: str, value: Any) -> str:
    return matching(MODEL_NAME, "a model name: lowercase letters, digits, - and _ (at most 40)")(name, value)


def new_model_name(name: str, value: Any) -> str:
    value = model_name(name, value)
    if value == "default":
        raise InvalidPayload(f"{name} 'default' is the shipped model; choose another name")
    return value


random_seed = integer(0, 2**32 - 1)


def lines_seen(name: str, value: Any) -> int:
    """How many lines of the story a reader had seen: a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEEN:
        raise InvalidPayload(f"{name} must be the number of lines seen: a whole number, 0 or more")
    return value


def story_lines_kept(options: Mapping[str, Any], start: int, written: int) -> int:
    """A story stopped by a reader who had seen ``seen`` lines keeps at most one more (the
    line that was being written when they asked), never fewer than its earlier segments'."""
    seen = options.get("seen")
    if seen is None:
        return written
    return max(start, min(written, seen + 1))

SAMPLING = {
    "temperature": Field(number(0.1, 2.0), 0.8),
    "top_k": Field(integer(0, 200), 0),
    "top_p": Field(number(0.0, 1.0, above_lo=True), 1.0),
}

STORY_FIELDS = {
    "seed": Field(story_text),
    "lines": Field(integer(1, 100), 10),
    **SAMPLING,
    "model": Field(model_name, "default"),
    "random_seed": Field(random_seed, None),
    "max_line_chars": Field(integer(20, 1000), 400),
    "parent": Field(job_id, None),
}

# Version 2: a line is a sentence (with models trained on unwrapped text) and its output
# reports paragraph breaks; version 1 stories (lines of at most 200 characters) still run.
STORY = JobKind(
    name="story",
    version=2,
    fields=STORY_FIELDS,
    older={1: {**STORY_FIELDS, "max_line_chars": Field(integer(20, 1000), 200)}},
    # knobs left out of a continue keep the first segment's values
    continue_fields={
        "lines": Field(integer(1, 100), 10),
        **{name: Field(spec.check, None) for name, spec in SAMPLING.items()},
    },
    needs_model=True,
    max_lines=1000,
    cancel_fields={"seen": Field(lines_seen, None)},
    lines_kept=story_lines_kept,
)

TRAIN = JobKind(
    name="train",
    version=1,
    fields={
        "corpus": Field(pushed_file_name),
        "model": Field(new_model_name),
        "steps": Field(integer(1, 100_000), 2000),
        "hidden_size": Field(integer(32, 2048), 256),
        "layers": Field(integer(1, 4), 2),
        "seq_len": Field(integer(16, 1024), 128),
        "batch_size": Field(integer(1, 512), 32),
        "learning_rate": Field(number(1e-5, 1.0), 2e-3),
        "random_seed": Field(random_seed, None),
    },
)

KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


def get_kind(name: object) -> JobKind:
    """The registered kind ``name``; ``InvalidPayload`` if there is none."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidPayload(f"unknown job kind {shown(name)}")
    return kind


register(STORY)
register(TRAIN)
