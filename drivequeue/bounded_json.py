"""JSON from untrusted bytes (request bodies, files anyone with the folder can write),
parsed within bounds that are checked before the parser runs.

Python's ``json`` recurses once per nesting level, so a small body of deeply
nested arrays raises ``RecursionError`` deep inside it; a scan of the brackets
outside strings refuses such input first. The scan is linear in the input
whatever it holds: the string pattern is written so that it never fails once
it has begun (an unclosed string runs to the end of the text), so no position
is tried twice, and the brackets are counted by C loops, not one Python step each.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: deeper than any record or request of the project, far below the interpreter's recursion limit
MAX_DEPTH = 32

# a string with its escapes, its closing quote optional ("unrolled loop": no two ways to match)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# opening brackets become 1, closing ones 255 (-1 as a signed byte)
_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


class JsonRefused(ValueError):
    """The text is not JSON within the bounds; the message completes "the file ..." or "the request body ..."."""


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    steps = memoryview(brackets.translate(_STEPS).encode("latin-1")).cast("b")
    return max(0, max(accumulate(steps)))


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
