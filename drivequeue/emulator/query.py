"""The parts of Drive's query language (``q``) and field masks (``fields``) the emulator understands.

Queries are clauses joined by ``and``: ``'ID' in parents``, ``name = 'x'``,
``name != 'x'``, ``mimeType = 'x'``, ``mimeType != 'x'``, ``trashed = true|false``.
Anything else is answered with 400, as Drive does for a query it cannot parse.
"""

from __future__ import annotations

import re
from typing import Callable

from .model import ApiError

_STRING = r"'((?:[^'\\]|\\.)*)'"
_IN_PARENTS = re.compile(_STRING + r"\s+in\s+parents")
_COMPARE = re.compile(r"(name|mimeType)\s*(=|!=)\s*" + _STRING)
_TRASHED = re.compile(r"trashed\s*=\s*(true|false)")
_AND = re.compile(r"\s+and\s+")

Predicate = Callable[[dict], bool]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _clause(text: str) -> Predicate:
    if match := _IN_PARENTS.fullmatch(text):
        parent = _unescape(match.group(1))
        return lambda f: parent in f["parents"]
    if match := _COMPARE.fullmatch(text):
        field, op, value = match.group(1), match.group(2), _unescape(match.group(3))
        return (lambda f: f[field] == value) if op == "=" else (lambda f: f[field] != value)
    if match := _TRASHED.fullmatch(text):
        wanted = match.group(1) == "true"
        return lambda f: f["trashed"] == wanted
    raise ApiError(400, "invalid", f"Invalid Value: unsupported query clause {text!r}")


def parse_query(q: str | None) -> Predicate:
    """A predicate over file resources for the query ``q`` (everything when empty)."""
    if not q or not q.strip():
        return lambda f: True
    predicates = [_clause(part.strip()) for part in _split_and(q.strip())]
    return lambda f: all(p(f) for p in predicates)


def _split_and(q: str) -> list[str]:
    """Split on ``and`` outside quoted strings."""
    parts, start, quoted, i = [], 0, False, 0
    while i < len(q):
        if q[i] == "\\" and quoted:
            i += 2
            continue
        if q[i] == "'":
            quoted = not quoted
        elif not quoted and (match := _AND.match(q, i)):  # at i, without copying the rest
            parts.append(q[start:i])
            i = start = match.end()
            continue
        i += 1
    parts.append(q[start:])
    return parts


def parse_fields(fields: str | None) -> dict | None:
    """Turn a mask like ``files(id,name),nextPageToken`` into a nested dict; None keeps all."""
    if fields is None or fields.strip() in ("", "*"):
        return None
    mask, stack, token = {}, [], ""
    current = mask
    for char in fields + ",":
        if char in ",()":
            token = token.strip()
            if char == "(":
                stack.append(current)
                current = current.setdefault(token, {})
            elif token:
                _add_path(current, token)
            if char == ")":
                if not stack:
                    raise ApiError(400, "invalidParameter", "Invalid field selection")
                current = stack.pop()
            token = ""
        else:
            token += char
    if stack:
        raise ApiError(400, "invalidParameter", "Invalid field selection")
    return mask


def _add_path(mask: dict, path: str) -> None:
    for part in path.split("/"):
        mask = mask.setdefault(part, {})


def apply_fields(resource: dict, mask: dict | None) -> dict:
    """Keep only the masked parts of ``resource`` (lists are masked item by item)."""
    if mask is None:
        return resource
    out = {}
    for key, sub in mask.items():
        if key == "*":
            return resource
        if key not in resource:
            continue
        value = resource[key]
        if sub and isinstance(value, list):
            out[key] = [apply_fields(item, sub) for item in value]
        elif sub and isinstance(value, dict):
            out[key] = apply_fields(value, sub)
        else:
            out[key] = value
    return out
