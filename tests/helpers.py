"""The one way the tests wait for something to happen, and the one way they make a file old."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], within: float = 30.0, every: float = 0.02, what: str | None = None) -> T:
    """Call ``probe`` until it returns something truthy, and return that; fail the test after
    ``within`` seconds, naming ``what`` it waited for.

    The bound only keeps a broken test from hanging; nothing is asserted about time.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what or probe}")
        time.sleep(every)


def age(store, key: str, seconds: float) -> None:
    """Make the file ``key`` of the local folder ``store`` look written ``seconds`` ago by the
    folder's own clock (its time of change is what gc judges ages by)."""
    then = store.now() - seconds
    os.utime(store.root / key, (then, then))
