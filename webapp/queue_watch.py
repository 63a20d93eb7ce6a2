"""The operator's overview of the queue, taken at most once per period for every watcher together.

The operator's page, its live updates and ``/metrics`` all ask ``QueueWatch.look()``;
however many of them ask, the queue is looked at (``drivequeue.overview.take``)
at most once per ``period`` seconds per process, through the changes feed that
the story pages already follow on Drive. Each new look is handed to
``on_look`` (the metrics count the jobs that ended since the last one).
"""

from __future__ import annotations

from collections.abc import Callable

from drivequeue import Queue
from drivequeue.overview import Overview, take

from .read_cache import ReadThroughCache


class QueueWatch:
    def __init__(self, queue: Queue, period: float, on_look: Callable[[Overview], None]) -> None:
        self.queue = queue
        self.period = period
        self.on_look = on_look
        self._looks: ReadThroughCache[Overview] = ReadThroughCache(period)

    def look(self) -> Overview:
        """The overview, at most ``period`` seconds old (``StoreUnavailable`` if the store is down)."""
        return self._looks.get("queue", self._take)

    def _take(self) -> Overview:
        overview = take(self.queue)
        self.on_look(overview)
        return overview
