"""A job kind declared by one function: its typed parameters and defaults become the payload's
fields and checks; the function stays callable; what cannot be a field is refused at once."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

import drivequeue
from drivequeue import InputFile, InvalidPayload, Range, Text
from drivequeue.kinds import REQUIRED, by_name
from tests.drivequeue import fn_plugin


def test_parameters_become_fields_with_checks_and_defaults():
    @drivequeue.kind
    def resize(image: InputFile, width: Annotated[int, Range(1, 4096)], scale: Annotated[float, Range(0, 8)] = 1.0,
               caption: Annotated[str, Text(20)] | None = None, sharp: bool = False,
               mode: Literal["fit", "fill"] = "fit", *, job) -> dict:
        """Resize an image.

        More words that are not the summary."""
        return {}

    kind = resize.job_kind
    assert kind.name == "resize" and kind.version == 1 and kind.description == "Resize an image."
    assert list(kind.fields) == ["image", "width", "scale", "caption", "sharp", "mode"]  # job is not a field
    assert kind.fields["width"].default is REQUIRED and kind.fields["scale"].default == 1.0
    assert kind.validate({"image": "in/a.png", "width": 10}) == {
        "v": 1, "image": "in/a.png", "width": 10, "scale": 1.0, "caption": None, "sharp": False, "mode": "fit"}
    for bad, message in [
        ({"image": "../a.png", "width": 1}, "image must be the name of a pushed file"),
        ({"image": "a.png", "width": 0}, "width must be a whole number from 1 to 4096"),
        ({"image": "a.png", "width": 1.5}, "width must be a whole number from 1 to 4096"),
        ({"image": "a.png", "width": 1, "scale": 9}, "scale must be a number from 0 to 8"),
        ({"image": "a.png", "width": 1, "caption": "x" * 21}, "caption is longer than 20 characters"),
        ({"image": "a.png", "width": 1, "sharp": 1}, "sharp must be true or false"),
        ({"image": "a.png", "width": 1, "mode": "crop"}, "mode must be one of 'fit', 'fill'"),
        ({"width": 1}, "image is required"),
        ({"image": "a.png", "width": 1, "height": 2}, "unknown field 'height'"),
    ]:
        with pytest.raises(InvalidPayload, match=message):
            kind.validate(bad)


def test_the_function_is_still_a_plain_function():
    assert fn_plugin.scale(2.0, 5.0) == 10.0
    assert fn_plugin.scale.__name__ == "scale" and "x times factor" in fn_plugin.scale.__doc__


def test_older_versions_keep_their_own_fields():
    kind = fn_plugin.scale.job_kind
    assert kind.labels == ["scale v1", "scale v2"]
    assert kind.validate({"v": 1, "x": 3}) == {"v": 1, "x": 3}
    with pytest.raises(InvalidPayload, match="x must be a whole number"):
        kind.validate({"v": 1, "x": 3.5})
    assert kind.validate({"x": 3.5}) == {"v": 2, "x": 3.5, "factor": 3.0}


def test_a_handler_runs_the_function_with_the_request_and_says_its_concurrency():
    @drivequeue.kind(name="add-up", concurrency=3)
    def add(a: int, b: int = 2) -> int:
        return a + b

    assert add.job_kind.name == "add-up" and add.handler.concurrency == 3
    assert add.handler(add.job_kind.validate({"a": 5}), job=None) == 7
    assert by_name([add.job_kind]) == {"add-up": add.job_kind}


@pytest.mark.parametrize("declare, message", [
    (lambda: drivequeue.kind(lambda x: x), "parameter 'x' needs a type"),
    (lambda: drivequeue.kind(_takes_a_list), "parameter 'items' has a type a payload field cannot hold"),
    (lambda: drivequeue.kind(_takes_args), r"\*rest cannot be a payload field"),
    (lambda: drivequeue.kind(_bad_default), "count must be a whole number from 1 to 3"),
    (lambda: drivequeue.kind(_range_on_text), "parameter 'name' has a type a payload field cannot hold"),
])
def test_what_cannot_be_a_payload_field_is_refused_when_declared(declare, message):
    with pytest.raises((TypeError, InvalidPayload), match=message):
        declare()


def test_a_bad_name_or_concurrency_is_refused():
    with pytest.raises(ValueError, match="lowercase word"):
        drivequeue.kind(name="Bad Name")(_no_fields)
    with pytest.raises(ValueError, match="concurrency must be a whole number from 1"):
        drivequeue.kind(name="fine", concurrency=0)(_no_fields)


def _no_fields() -> None:
    return None


def _takes_a_list(items: list[int]) -> None:
    return None


def _takes_args(*rest: int) -> None:
    return None


def _bad_default(count: Annotated[int, Range(1, 3)] = 5) -> None:
    return None


def _range_on_text(name: Annotated[str, Range(1, 3)]) -> None:
    return None
