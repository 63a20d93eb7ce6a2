"""Small helpers shared by the queue tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], within: float = 30.0, every: float = 0.02) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``within`` seconds.

    The bound only keeps a broken test from hanging; nothing is asserted about time.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{probe} never became true")
        time.sleep(every)
