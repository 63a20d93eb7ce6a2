"""A plugin whose kinds are declared by functions (``@drivequeue.kind``), for the tests: no KINDS,
no handlers(), no torch."""

import sys
from collections import Counter
from typing import Annotated, Literal

import drivequeue
from drivequeue import InputFile, Range


@drivequeue.kind
def wordcount(text: InputFile, top: Annotated[int, Range(1, 10)] = 3, case: Literal["keep", "lower"] = "lower",
              *, job) -> dict:
    """The most frequent words of a pushed text file."""
    words = text.read_text(encoding="utf-8").split()
    if case == "lower":
        words = [word.lower() for word in words]
    job.progress({"words": len(words)})
    job.say(f"{len(words)} words")
    return {"top": Counter(words).most_common(top), "torch_loaded": "torch" in sys.modules}


def _scale_v1(x: int) -> float:
    return x * 2.0


@drivequeue.kind(version=2, older={1: _scale_v1})
def scale(x: float, factor: Annotated[float, Range(0, 10)] = 3.0) -> float:
    """x times factor (version 1 requests: x times 2)."""
    return x * factor


@drivequeue.kind(serve_by_default=False)
def heavy() -> str:
    """A kind a generic worker serves only when --kinds names it."""
    return "ran"
