"""The bounded JSON parser: exact nesting depth and plain ``json`` results, whatever the text holds."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivequeue import bounded_json
from drivequeue.bounded_json import JsonRefused, nesting_depth

#: the characters a string or bracket scanner can trip on, and one that means nothing to it
_TRICKY = st.sampled_from(['"', "\\", "[", "]", "{", "}", "a", "\n"])


def reference_depth(text: str) -> int:
    """The nesting depth by the plain one-character-at-a-time reading of JSON's grammar."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


@settings(max_examples=300, deadline=None)
@given(st.text(_TRICKY, max_size=200))
def test_the_depth_of_any_text_is_what_a_plain_reading_finds(text):
    assert nesting_depth(text) == reference_depth(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(_TRICKY, min_size=1, max_size=4), min_size=1, max_size=3),
       st.integers(min_value=1, max_value=20_000))
def test_long_repetitions_of_short_units_are_scanned_right(units, times):
    """The shapes that make a scanner rescan: a short unit (an escaped quote, a bracket...)
    repeated thousands of times, with or without a closing quote."""
    text = "".join(units) * times
    assert nesting_depth(text) == reference_depth(text)
    with pytest.raises(JsonRefused):
        bounded_json.loads(text + "\x00")  # never valid JSON: refused, whatever the reason


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_json_within_the_bounds_parses_as_plain_json_does(value):
    text = json.dumps(value)
    assert bounded_json.loads(text.encode()) == json.loads(text)


def test_too_deep_and_unfinished_input_is_refused_with_its_reason():
    assert bounded_json.loads("[" * 32 + "]" * 32) is not None
    with pytest.raises(JsonRefused, match="nests more than 32 levels deep"):
        bounded_json.loads("[" * 33 + "]" * 33)
    with pytest.raises(JsonRefused, match="nests more than 32"):
        bounded_json.loads(b"[" * 1_000_000)
    for unfinished in ('"' + '\\"' * 64_000, '"\\' * 64_000, '{"a": "' + "[" * 64_000):
        with pytest.raises(JsonRefused, match="is not valid JSON"):
            bounded_json.loads(unfinished)
    with pytest.raises(JsonRefused, match="not UTF-8"):
        bounded_json.loads(b"\xff")
