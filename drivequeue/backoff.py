"""Riding out a store outage: the one way every part of the queue waits while the store is down.

A ``Backoff`` counts the failures in a row since the last success. After each one,
``wait`` logs one line (what failed, why, and for how long it waits) and sleeps
``first``, 2x, 4x ... seconds, capped at ``cap``, each scaled by a random 0.5-1 so
that workers that failed together do not retry together. It gives up, and the
caller re-raises, once a stop is requested or the ``budget`` (seconds since the
last success) is spent; a wait is cut to what is left of the budget and ends
early on a stop. ``call`` runs one action that way. (dramatiq's ``Retries``
middleware and ``compute_backoff`` are the model.)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import StoreUnavailable
from .shutdown import Shutdown

T = TypeVar("T")

log = logging.getLogger(__name__)


class Backoff:
    """Waits between attempts while the store is unavailable (see the module docstring).

    ``what``: the start of the log line (``"queue store unavailable (why); retrying in 2.0 s"``);
    ``stop``: a ``Shutdown`` whose request ends the waiting; ``budget``: None for no limit.
    """

    def __init__(self, *, cap: float = 16.0, first: float = 0.5, budget: float | None = None,
                 stop: Shutdown | None = None, what: str = "queue store unavailable",
                 logger: logging.Logger = log, level: int = logging.WARNING,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.monotonic):
        self.first = first
        self.cap = max(cap, first)
        self.budget = budget
        self.stop = stop
        self.what = what
        self.logger = logger
        self.level = level
        self.rng = rng or random.Random()
        self.clock = clock
        self.failures = 0
        self.since = clock()

    def delay(self, failure: int) -> float:
        """The wait after failure number ``failure`` in a row (0 for the first)."""
        return min(self.cap, self.first * 2**failure) * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """A success: the next failure is the first of a new run, with a whole budget."""
        self.failures = 0
        self.since = self.clock()

    def wait(self, error: Exception) -> bool:
        """One more failure (``error``): log it and wait. False, at once, when the caller should
        give up: a stop was requested, or the budget is spent."""
        if self.stop is not None and self.stop.requested:
            return False
        delay = self.delay(self.failures)
        if self.budget is not None:
            left = self.since + self.budget - self.clock()
            if left <= 0:
                return False
            delay = min(delay, left)
        self.failures += 1
        self.logger.log(self.level, "%s (%s); retrying in %.1f s", self.what, error, delay)
        if self.stop is not None:
            return not self.stop.sleep(delay)
        time.sleep(delay)
        return True

    def call(self, action: Callable[[], T], on: type[Exception] = StoreUnavailable) -> T:
        """``action()``, tried again after each ``on`` error (an outage) until it succeeds; the
        last one is raised once ``wait`` gives up."""
        self.reset()
        while True:
            try:
                result = action()
            except on as exc:
                if not self.wait(exc):
                    raise
                continue
            self.reset()
            return result
