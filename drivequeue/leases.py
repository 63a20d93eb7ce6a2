"""Worker liveness as one observer sees it, on the observer's own monotonic clock.

A worker's lease has expired when this observer has seen no new ``beat`` in its
heartbeat file for ``lease`` seconds, counted from the moment the observer
first saw the current beat. Wall clocks of different machines are never
compared, so a fresh observer waits one whole lease before it declares a
silent worker dead. A missing heartbeat file means the worker closed (or was
removed by ``gc``): dead at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import CorruptRecord, NotFound
from .records import WorkerRecord, decode
from .store import Store


@dataclass
class _Sighting:
    record: WorkerRecord
    changed_at: float  # observer clock when ``record.beat`` was first seen
    first_seen: float
    looked_at: float


class LeaseWatch:
    def __init__(self, store: Store, lease: float, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.lease = lease
        self.clock = clock
        self._seen: dict[str, _Sighting] = {}
        #: heartbeat files that cannot be read, and why (ignored: such a worker holds nothing)
        self.unreadable: dict[str, str] = {}
        self._lock = threading.Lock()
        # a look this recent is reused: a scan asks about the same worker for many jobs
        self._reuse = lease / 20

    def look(self, key: str, reuse: bool = True) -> WorkerRecord | None:
        """Read ``key``'s heartbeat file (or, with ``reuse``, a very recent read); None if it is gone."""
        now = self.clock()
        seen = self._seen.get(key)
        if reuse and seen is not None and now - seen.looked_at < self._reuse:
            return seen.record
        try:
            record = WorkerRecord.parse(decode(self.store.read(key)))
        except NotFound:
            self._seen.pop(key, None)
            return None
        except CorruptRecord as exc:
            self._seen.pop(key, None)
            self.store.bad.note(key, "heartbeat", f"{exc}; the worker is taken for gone")
            self.unreadable[key] = str(exc)
            return None
        self.unreadable.pop(key, None)
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                self._seen[key] = _Sighting(record, now, now, now)
            else:
                if record.beat != seen.record.beat:
                    seen.changed_at = now
                seen.record = record
                seen.looked_at = now
        return record

    def alive(self, key: str | None) -> bool:
        """Whether the worker with heartbeat file ``key`` still holds its lease."""
        if key is None or self.look(key) is None:
            return False
        seen = self._seen.get(key)
        return seen is not None and self.clock() - seen.changed_at < self.lease

    def online(self, key: str, wall_now: float) -> bool:
        """For display: alive, and, until this observer has watched for a whole lease,
        the worker's own clock says it beat within a lease (so a dead worker's
        leftover file does not show as online to a fresh observer)."""
        if not self.alive(key):
            return False
        seen = self._seen.get(key)
        if seen is None:
            return False
        if self.clock() - seen.first_seen >= self.lease:
            return True
        return abs(wall_now - seen.record.time) < self.lease

    def forget(self, keep: set[str]) -> None:
        """Drop what is known about workers not in ``keep``."""
        for key in list(self._seen):
            if key not in keep:
                self._seen.pop(key, None)
        for key in list(self.unreadable):
            if key not in keep:
                self.unreadable.pop(key, None)
