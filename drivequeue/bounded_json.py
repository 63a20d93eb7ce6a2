"""JSON from untrusted bytes (request bodies, files anyone with the folder can write),
parsed within bounds that are checked before the parser runs.

Python's ``json`` recurses once per nesting level, so a small body of deeply
nested arrays raises ``RecursionError`` deep inside it; a scan of the brackets
outside strings refuses such input first, in linear time.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: deeper than any record or request of the project, far below the interpreter's recursion limit
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonRefused(ValueError):
    """The text is not JSON within the bounds; the message completes "the file ..." or "the request body ..."."""


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` (UTF-8 when bytes); ``JsonRefused`` unless it is JSON nested at most ``max_depth`` deep."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JsonRefused("is not UTF-8 text") from None
    if nesting_depth(text) > max_depth:
        raise JsonRefused(f"nests more than {max_depth} levels deep")
    try:
        return json.loads(text)
    except ValueError:  # includes integers too long to convert
        raise JsonRefused("is not valid JSON") from None
