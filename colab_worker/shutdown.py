"""Warm stop on the first SIGTERM or SIGINT, cold stop on the second.

The first signal only sets a flag: the run loop sees it, finishes the line every
story is writing, releases its claims and returns. A second signal means the
operator will not wait: the process ends at once, and the queue resumes its jobs
elsewhere once the lease expires.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Shutdown:
    """A stop flag that signals set; use as a context manager to install the handlers."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, why: str) -> None:
        """Ask for a warm stop (also what the first signal does)."""
        if not self._event.is_set():
            log.info("warm stop: %s; finishing current lines", why)
        self._event.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on a stop request; True if one came."""
        return self._event.wait(seconds)

    def _handle(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if self._event.is_set():
            log.warning("second %s: exiting now without draining", name)
            logging.shutdown()
            sys.stdout.flush()
            os._exit(128 + signum)
        self.request(f"{name} received")

    def __enter__(self) -> Shutdown:
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
