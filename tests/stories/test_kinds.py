"""The story server's job kinds: every bad request gets a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivequeue.errors import InvalidPayload
from drivequeue.kinds import get_kind
from stories.kinds import STORY, TRAIN

GOOD_ID = "job-" + "a" * 22 + "." + "b" * 22


def test_story_defaults_fill_in_what_was_left_out():
    assert STORY.validate({"seed": "Once upon a time"}) == {
        "v": 2, "seed": "Once upon a time", "lines": 10, "temperature": 0.8, "top_k": 0,
        "top_p": 1.0, "model": "default", "random_seed": None, "max_line_chars": 400, "parent": None,
    }


def test_version_1_stories_are_still_read_with_their_own_defaults():
    old = STORY.validate({"v": 1, "seed": "Once upon a time"})
    assert old["v"] == 1 and old["max_line_chars"] == 200
    assert STORY.validate(old) == old


def test_story_keeps_good_values():
    clean = STORY.validate({"seed": "a\r\nb", "lines": 100, "temperature": 2, "top_k": 200, "top_p": 0.5,
                            "model": "my_model-2", "random_seed": 2**32 - 1, "max_line_chars": 20,
                            "parent": GOOD_ID, "v": 2})
    assert clean["seed"] == "a\nb"
    assert clean["temperature"] == 2.0 and isinstance(clean["temperature"], float)
    assert clean["parent"] == GOOD_ID


@pytest.mark.parametrize("payload, message", [
    ({}, "seed is required"),
    ({"seed": ""}, "seed is blank: it needs at least one character that is not a space"),
    ({"seed": " \n\t "}, "seed is blank: it needs at least one character that is not a space"),
    ({"seed": "x" * 4001}, "longer than 4000"),
    ({"seed": "bad \udcff bytes"}, "not valid UTF-8"),
    ({"seed": "nul \x00 char"}, "control characters"),
    ({"seed": 42}, "seed must be text"),
    ({"seed": "s", "lines": 0}, "lines must be a whole number from 1 to 100"),
    ({"seed": "s", "lines": 101}, "lines must be"),
    ({"seed": "s", "lines": "5"}, "lines must be"),
    ({"seed": "s", "lines": 2.5}, "lines must be"),
    ({"seed": "s", "lines": True}, "lines must be"),
    ({"seed": "s", "temperature": 0.05}, "temperature must be a number from 0.1 to 2"),
    ({"seed": "s", "temperature": float("nan")}, "temperature"),
    ({"seed": "s", "top_k": -1}, "top_k"),
    ({"seed": "s", "top_p": 0}, "top_p must be a number above 0 and at most 1"),
    ({"seed": "s", "top_p": 1.01}, "top_p"),
    ({"seed": "s", "model": "../etc"}, "model must be a model name"),
    ({"seed": "s", "model": "Default"}, "model"),
    ({"seed": "s", "random_seed": -1}, "random_seed"),
    ({"seed": "s", "max_line_chars": 19}, "max_line_chars"),
    ({"seed": "s", "parent": "../x"}, "parent is not a valid story id"),
    ({"seed": "s", "colour": "red"}, "unknown field 'colour'"),
    ({"seed": "s", "v": 3}, "unknown story payload version 3"),
    ({"seed": "s", "v": True}, "unknown story payload version True"),
    ("just a string", "must be a JSON object"),
])
def test_bad_story_requests_are_refused_with_a_reason(payload, message):
    with pytest.raises(InvalidPayload, match=message):
        STORY.validate(payload)


def test_seed_of_exactly_4000_characters_is_accepted():
    assert len(STORY.validate({"seed": "é" * 4000})["seed"]) == 4000


def test_continue_takes_lines_and_optional_knobs():
    assert STORY.validate_continue({}) == {"v": 2, "lines": 10, "temperature": None, "top_k": None, "top_p": None}
    assert STORY.validate_continue({"lines": 3, "temperature": 1.5})["temperature"] == 1.5
    with pytest.raises(InvalidPayload, match="unknown field 'seed'"):
        STORY.validate_continue({"seed": "new"})


def test_train_requests():
    clean = TRAIN.validate({"corpus": "tales.txt", "model": "tales"})
    assert clean["steps"] == 2000 and clean["corpus"] == "tales.txt"
    for bad, message in [
        ({"model": "tales"}, "corpus is required"),
        ({"corpus": "../secret", "model": "tales"}, "corpus must be the name of a pushed file"),
        ({"corpus": "t.txt", "model": "default"}, "shipped model"),
        ({"corpus": "t.txt", "model": "tales", "steps": -1}, "steps must be a whole number from 0"),
        ({"corpus": "t.txt", "model": "tales", "tie_embeddings": True, "embedding_dim": 64, "hidden_size": 256},
         "tied embeddings need embedding-dim == hidden-size, not 64 and 256"),
    ]:
        with pytest.raises(InvalidPayload, match=message):
            TRAIN.validate(bad)
    with pytest.raises(InvalidPayload, match="cannot be continued"):
        TRAIN.validate_continue({"lines": 3})


def test_unknown_kinds_name_the_known_ones():
    kinds = {"story": STORY, "train": TRAIN}
    assert get_kind(kinds, "story") is STORY
    for name in ("paint", "", None, 3):
        with pytest.raises(InvalidPayload, match=r"unknown job kind .* \(known kinds: story, train\)"):
            get_kind(kinds, name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(STORY.fields) + ["v", "x"]), json_values, max_size=6))
def test_any_json_request_is_either_clean_or_refused_with_invalid_payload(payload):
    try:
        clean = STORY.validate(payload)
    except InvalidPayload as exc:
        assert str(exc)
    else:
        assert STORY.validate(clean) == clean  # validating a stored payload again changes nothing
