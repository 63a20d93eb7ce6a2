"""A per-process read-through cache: the queue is read at most once per interval per key.

Every open story page streams (or polls) the web app; without this, every tab
would cost a Drive API read per look. With it, a story watched by fifty tabs in
one process is still read about once per ``max_age`` seconds: threads that ask
for a stale key while another thread is already fetching it wait for that
fetch instead of starting their own.

Errors of the queue (``NotFound`` for an unknown id, ``StoreUnavailable``) are
cached like values, so a flood of requests for a bad id does not reach the
store more often than good ones.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from drivequeue.errors import DriveQueueError

T = TypeVar("T")


class _Entry:
    __slots__ = ("lock", "fetched_at", "value", "error")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fetched_at: float | None = None
        self.value = None
        self.error: DriveQueueError | None = None


class ReadThroughCache(Generic[T]):
    """Values by key, each fetched again only when older than ``max_age`` seconds."""

    def __init__(
        self,
        max_age: float,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """The cached value of ``key``, calling ``fetch()`` if it is missing or stale."""
        entry = self._entry(key)
        with entry.lock:
            now = self.clock()
            if entry.fetched_at is None or now - entry.fetched_at >= self.max_age:
                try:
                    entry.value, entry.error = fetch(), None
                except DriveQueueError as error:
                    entry.value, entry.error = None, error
                entry.fetched_at = self.clock()
            if entry.error is not None:
                raise copy.copy(entry.error)  # a fresh traceback for each thread
            return entry.value

    def forget(self, key: Hashable) -> None:
        """Drop ``key`` so that the next ``get`` fetches it (after a change made here)."""
        with self._lock:
            self._entries.pop(key, None)

    def _entry(self, key: Hashable) -> _Entry:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
            return entry
