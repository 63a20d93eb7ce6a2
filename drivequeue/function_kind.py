"""A job kind declared by one function: its typed parameters and defaults are the payload.

::

    @drivequeue.kind
    def wordcount(text: InputFile, top: Annotated[int, Range(1, 100)] = 10, *, job) -> dict:
        words = text.read_text().split()
        ...

declares the kind ``wordcount`` (payload version 1) whose requests hold ``text``
(the name of a pushed file, required) and ``top`` (a whole number from 1 to 100,
10 if left out). Producers validate requests with it, every reader checks stored
ones again, and a worker that loads the module serves it: it fetches each
``InputFile`` to a local path, passes ``job`` (``drivequeue.Job``: progress,
output lines, result files, cancel) to a parameter of that name, and the
function's return value is the job's JSON result. It stays a plain function:
calling it calls it.

Annotations: ``int``, ``float``, ``bool``, ``str`` (readable text), ``Literal[...]``
(one of those values), ``InputFile``, ``X | None`` (None allowed; ``= None`` makes it optional), and
``Annotated[T, extra]`` where ``extra`` is ``Range(lo, hi)`` (for ``int`` and
``float``), ``Text(max_chars)`` (for ``str``) or any checker ``(name, value) -> clean
value`` of ``drivequeue.kinds``. Anything else is refused when the module is imported.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .kinds import (
    REQUIRED,
    Field,
    JobKind,
    any_number,
    flag,
    integer,
    number,
    one_of,
    pushed_file_name,
    text,
    whole_number,
)

#: the longest ``str`` a request may hold without ``Text(max_chars)``
DEFAULT_MAX_CHARS = 100_000


class InputFile(type(Path())):
    """A parameter annotated ``InputFile``: the request names a pushed file (``drivequeue push``);
    the function gets the local path the worker fetched it to."""


@dataclass(frozen=True)
class Range:
    """``Annotated[int, Range(1, 100)]``: a whole number (or, for ``float``, a number) in ``[lo, hi]``."""

    lo: float
    hi: float


@dataclass(frozen=True)
class Text:
    """``Annotated[str, Text(200)]``: readable text of at most ``max_chars`` characters."""

    max_chars: int


class FunctionKind:
    """A job kind made from a function (``kind``): calling it calls the function; ``job_kind`` is
    the ``JobKind`` producers and readers check requests with; ``handler`` is what a worker runs."""

    def __init__(self, func: Callable, *, name: str | None, version: int, concurrency: int,
                 older: Mapping[int, Callable], serve_by_default: bool):
        functools.update_wrapper(self, func)
        self.func = func
        self.functions = {version: func, **older}
        signatures = {v: _signature(f) for v, f in self.functions.items()}
        self.job_kind = JobKind(name=name or func.__name__, version=version, fields=signatures[version].fields,
                                older={v: sig.fields for v, sig in signatures.items() if v != version},
                                serve_by_default=serve_by_default,
                                description=(inspect.getdoc(func) or "").split("\n\n")[0].replace("\n", " "))
        self.handler = _Handler(self.job_kind.name, self.functions, signatures, concurrency)

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<job kind {self.job_kind.name} v{self.job_kind.version} from {self.func.__qualname__}>"


def kind(func: Callable | None = None, *, name: str | None = None, version: int = 1, concurrency: int = 1,
         older: Mapping[int, Callable] | None = None, serve_by_default: bool = True):
    """Declare a job kind from ``func`` (see the module's docstring); usable bare (``@kind``) or
    with settings (``@kind(version=2)``). ``name``: the kind's name (default: the function's).
    ``version``: the payload version; ``older``: ``{version: function}`` for older payload
    versions still read, each run by its own function. ``concurrency``: jobs of this kind one
    worker runs at once. ``serve_by_default``: see ``JobKind``."""

    def declare(f: Callable) -> FunctionKind:
        return FunctionKind(f, name=name, version=version, concurrency=concurrency, older=dict(older or {}),
                            serve_by_default=serve_by_default)

    return declare if func is None else declare(func)


@dataclass(frozen=True)
class _Signature:
    fields: dict[str, Field]
    files: frozenset[str]  # the InputFile parameters
    takes_job: bool


def _signature(func: Callable) -> _Signature:
    """The payload fields of ``func``'s parameters; ``TypeError`` naming the first one that
    cannot be a field."""
    where = f"{func.__module__}.{func.__qualname__}"
    hints = typing.get_type_hints(func, include_extras=True)
    fields, files, takes_job = {}, set(), False
    for param in inspect.signature(func).parameters.values():
        if param.name == "job":
            takes_job = True
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{where}: *{param.name} cannot be a payload field; name each field")
        if param.name not in hints:
            raise TypeError(f"{where}: parameter {param.name!r} needs a type, such as int or InputFile")
        check, is_file = _checker(hints[param.name], where, param.name)
        default = REQUIRED if param.default is param.empty else param.default
        if default is not REQUIRED and default is not None:
            check(param.name, default)  # a default the field refuses is a mistake in the declaration
        fields[param.name] = Field(check, default)
        if is_file:
            files.add(param.name)
    return _Signature(fields, frozenset(files), takes_job)


def _checker(hint: Any, where: str, name: str) -> tuple[Callable[[str, Any], Any], bool]:
    """The checker for one annotation, and whether it names an ``InputFile``."""
    extras: list = []
    for _ in range(2):  # Annotated[X | None, ...] and Annotated[X, ...] | None alike
        if typing.get_origin(hint) is typing.Annotated:
            hint, *more = typing.get_args(hint)
            extras += more
        if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint):
            rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            hint = rest[0] if len(rest) == 1 else None
    for extra in extras:
        if isinstance(extra, Range) and hint in (int, float):
            return (integer(int(extra.lo), int(extra.hi)) if hint is int else number(extra.lo, extra.hi)), False
        if isinstance(extra, Text) and hint is str:
            return text(extra.max_chars), False
        if callable(extra) and not isinstance(extra, (Range, Text)):
            return extra, hint is InputFile
    if typing.get_origin(hint) is typing.Literal:
        return one_of(typing.get_args(hint)), False
    simple = {int: whole_number, float: any_number, bool: flag, str: text(DEFAULT_MAX_CHARS),
              InputFile: pushed_file_name}
    if hint in simple and not extras:
        return simple[hint], hint is InputFile
    raise TypeError(f"{where}: parameter {name!r} has a type a payload field cannot hold ({hint!r}{extras!r}); "
                    "use int, float, bool, str, Literal[...], InputFile, or Annotated[...] with Range or Text")


class _Handler:
    """Runs the function of the payload's version with the request's fields as arguments."""

    def __init__(self, name: str, functions: Mapping[int, Callable], signatures: Mapping[int, _Signature],
                 concurrency: int):
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"job kind {name}: concurrency must be a whole number from 1")
        self.__name__ = name
        self.functions = functions
        self.signatures = signatures
        self.concurrency = concurrency

    def __call__(self, payload: dict[str, Any], job) -> Any:
        version = payload["v"]
        signature = self.signatures[version]
        args = {name: payload[name] for name in signature.fields}
        for name in signature.files:
            if args[name] is not None:
                local = job.workdir / "inputs" / name / PurePosixPath(args[name]).name
                args[name] = InputFile(job.fetch(args[name], local))
        if signature.takes_job:
            args["job"] = job
        return self.functions[version](**args)
