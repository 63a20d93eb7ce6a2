"""What a serve loop sleeps on: a change in the store, a job that ended, or a stop request.

A store that pushes its changes (inotify on a folder, messages on Redis) is
watched from a thread of its own, so a change that arrives while the loop is
busy is kept and ends its next sleep at once: no wake-up is lost. Handler
threads call ``set`` when they end a job, and so does a stop request. A store
that cannot signal (Drive) is looked at every ``poll`` by the loop instead, which
follows Drive's changes feed.
"""

from __future__ import annotations

import logging
import threading

from .backoff import Backoff
from .errors import StoreUnavailable
from .store import Store

log = logging.getLogger(__name__)

#: the watching thread waits on the store this long at a time, so that it ends soon after ``close``
WATCH_SLICE_S = 0.25


class Wakeup:
    """An event set by store changes (from a watching thread), by handlers and by stop requests."""

    def __init__(self, store: Store, backoff_max: float):
        self._store = store
        self._event = threading.Event()
        self._closing = threading.Event()
        self._backoff_max = backoff_max
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin watching the store: from now on, no change is missed."""
        if not self._store.pushes_changes or self._thread is not None:
            return
        try:
            self._store.wait(0)  # the watch (inotify, the subscription) exists once this returns
        except StoreUnavailable:
            self._event.set()  # the loop meets the outage itself
        self._thread = threading.Thread(target=self._watch, name="drivequeue-wakeup", daemon=True)
        self._thread.start()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until set or ``timeout`` seconds have passed; True if it was set (and clear it)."""
        woken = self._event.wait(max(0.0, timeout))
        if woken:
            self._event.clear()
        return woken

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _watch(self) -> None:
        backoff = Backoff(cap=self._backoff_max)
        failures = 0
        while not self._closing.is_set():
            try:
                if self._store.wait(WATCH_SLICE_S):
                    self._event.set()
                failures = 0
            except StoreUnavailable as exc:  # the loop backs off on its own calls; wake it to meet the outage
                log.debug("watching the store: %s", exc)
                self._event.set()
                self._closing.wait(backoff.delay(failures))
                failures += 1
