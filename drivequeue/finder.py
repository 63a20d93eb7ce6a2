"""Which jobs a worker may claim, kept between claims, so that a claim reads only the jobs it may take.

A worker learns of new jobs and continues from the store: on Redis only the
files created since its last look (``Store.created_since``), elsewhere from one
listing (names only: a folder listing, or Drive's index fed by its changes
feed). It reads each new job file once and keeps the jobs that have not
finished in first-in-first-out order, with their kind and what they ask the
worker to offer. A claim then looks again only at the oldest of those it could
take: a queued one is claimed, a finished one is forgotten, and one that
another worker runs is looked at again after ``check`` seconds (its worker may
give it back or vanish). Every ``poll`` seconds everything is listed afresh, so
nothing a cursor missed (a file written by an older program) stays unseen longer.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import CorruptRecord, NotFound
from .records import SegmentRecord, decode
from .state import JobReader, JobState, JobView

#: output states after which a job stays finished (until a continue)
FINAL = frozenset({"done", "failed", "cancelled"})
#: a listing in which nothing exists: a view from the job file alone
NOTHING: frozenset[str] = frozenset()


@dataclass
class _Open:
    """A job that has not finished, as far as this worker knows."""

    order: tuple[float, str]  # (queued since, key): first in, first out
    kind: str | None
    offer: tuple  # () if its kind needs no offer, else (the value of its offer field,)
    servable: bool  # this program runs it, or must fail it (a kind or version it knows)
    look_at: float = 0.0  # monotonic time before which it is not looked at again


class JobFinder:
    """The jobs one worker session may claim, in the order it should claim them."""

    def __init__(self, reader: JobReader, serves: set[str], check: float, poll: float):
        self.reader = reader
        self.store = reader.store
        self._serves = serves  # the kinds this worker serves at all
        self._check = check
        self._poll = poll
        self._open: dict[str, _Open] = {}
        self._order: dict[str | None, list[tuple[float, str]]] = {}  # kind -> its open jobs' ``order``, sorted
        self._finished: set[str] = set()
        self._segments: set[str] | None = None  # segment keys seen (None: none looked for yet)
        self._cursor: object | None = None
        self._next_full = 0.0
        self._ended: list[tuple[str, str]] = []  # (job key, output state) from claims that ended
        self._offers: set[str] = set()
        self._listing: set[str] | None = None  # the last look's listing, where there was one
        self._lock = threading.Lock()

    def candidates(self, kinds: set[str], offers: set[str], held: set[str], refresh: bool = True
                   ) -> Iterator[JobView]:
        """Fresh views of the jobs to claim, oldest first: queued ones of ``kinds`` whose offer
        field names one of ``offers``, and those that must be failed (a request the kind rejects).
        ``held``: job keys this worker holds, which are not looked at. A job this worker never
        takes (another kind, an offer it lacks, a version it does not know) is looked at only
        every ``poll`` seconds, to notice that it has finished. ``refresh``: False to go by what
        the last look at the store found (a caller that looked a moment ago)."""
        self._take_endings()
        listing, fresh = self._refresh() if refresh else (self._listing, {})
        if offers != self._offers:  # jobs set aside for an offer the worker lacked may be taken now
            self._offers = set(offers)
            for item in self._open.values():
                if item.offer:
                    item.look_at = 0.0
        now = time.monotonic()
        passes = 0
        while (passes := passes + 1) <= 3:  # a job found newer than it was filed: look again, in order
            for view in self._pass(kinds, offers, held, listing, fresh, now):
                if view is None:
                    break
                yield view
            else:
                return

    def _pass(self, kinds, offers, held, listing, fresh, now) -> Iterator[JobView | None]:
        """One pass over the open jobs of ``kinds`` in order; ends with None when a job turned out
        to be newer than it was filed (a continue the first look did not follow)."""
        for order in heapq.merge(*(list(self._order.get(kind, ())) for kind in kinds)):
            key = order[1]
            item = self._open.get(key)
            if item is None or key in held or item.look_at > now:
                continue
            if not item.servable or item.kind not in self._serves or (item.offer and item.offer[0] not in offers):
                if item.look_at and self._view(key, listing) is None:
                    continue
                if key in self._open:
                    self._open[key].look_at = now + self._poll
                continue
            view = fresh.pop(key, None) or self._view(key, listing)
            if view is None:
                continue
            if view.sort_key != order and key in self._open:
                yield None
                return
            if view.needs_failing or (view.state is JobState.QUEUED and view.kind is not None):
                yield view
            elif view.state is JobState.RUNNING:
                self.look_later(key)

    def look_later(self, key: str) -> None:
        """Another worker runs ``key`` (or just won it): look at it again after ``check`` seconds."""
        item = self._open.get(key)
        if item is not None:
            item.look_at = time.monotonic() + self._check

    def ended(self, key: str, state: str) -> None:
        """A claim of this worker ended with its output in ``state`` (from any thread)."""
        with self._lock:
            self._ended.append((key, state))

    # -- learning what changed ----------------------------------------------------------------

    def _take_endings(self) -> None:
        """This worker's claims that ended: a finished job is closed, another looked at again."""
        with self._lock:
            ended, self._ended = self._ended, []
        for key, state in ended:
            if state in FINAL:
                self._close(key)
            elif key in self._open:
                self._open[key].look_at = 0.0

    def _refresh(self) -> tuple[set[str] | None, dict[str, JobView]]:
        """Take in new jobs and continues. Returns the listing the views may trust for which
        files exist (None when only new files were asked for) and the views made of new jobs."""
        now = time.monotonic()
        full = self._cursor is None or now >= self._next_full
        told = self.store.created_since(None if full else self._cursor)
        if told is None:  # the store can only list: every look is a full one
            entries, listing = self.store.list(), None
            listing = {entry.key for entry in entries}
        else:
            entries, self._cursor = told
            listing = {entry.key for entry in entries} if full else None
        if full:
            self._next_full = now + self._poll
        self._listing = listing
        jobs = [entry.key for entry in entries if entry.name == "job"]
        segments = [entry.key for entry in entries if entry.name == "segment"]
        if listing is not None:
            for key in (set(self._open) | self._finished) - set(jobs):
                self._forget(key)  # removed (gc)
        fresh = {}
        self.reader.read_jobs([key for key in jobs if key not in self._open and key not in self._finished])
        for key in jobs:
            if key not in self._open and key not in self._finished:
                # with a listing, a job's whole state costs no more reads than its file; without
                # one (Redis), only its file is read now, and the rest when it is its turn
                view = self._view(key, listing if listing is not None else NOTHING)
                if view is not None and listing is not None:
                    fresh[key] = view
        self._take_continues(segments, listing, fresh)
        return listing, fresh

    def _take_continues(self, segments: list[str], listing: set[str] | None, fresh: dict[str, JobView]) -> None:
        """A new segment queues its job again: read it once to know whose it is. The first look
        only notes them (the views of the first look follow every job's segments)."""
        if self._segments is None:
            self._segments = set(segments)
            return
        for key in segments:
            if key in self._segments:
                continue
            self._segments.add(key)
            try:
                job = SegmentRecord.parse(decode(self.store.read(key))).job
            except (NotFound, CorruptRecord):
                continue  # gone, or its job's view says what is wrong with it
            if job in self._finished or job in self._open:
                self._finished.discard(job)
                view = self._view(job, listing)
                if view is not None:
                    fresh[job] = view
        if listing is not None:
            self._segments &= listing

    def _view(self, key: str, listing: set[str] | None) -> JobView | None:
        """A fresh view of job ``key``, filed as open or finished; None if it is gone."""
        try:
            view = self.reader.view(key, listing=listing)
        except NotFound:
            self._forget(key)
            return None
        if view.state.finished and not view.needs_failing:
            self._close(key)
            return view
        offer_field = view.kind.offer_field if view.kind is not None else None
        item = _Open(order=view.sort_key, kind=view.job.kind if view.job is not None else None,
                     offer=(view.payload.get(offer_field),) if offer_field else (),
                     servable=view.kind is not None or view.needs_failing)
        old = self._open.get(key)
        if old is not None and old.order != item.order:
            self._unorder(old)
            old = None
        if old is None:
            bisect.insort(self._order.setdefault(item.kind, []), item.order)
        self._open[key] = item
        return view

    def _close(self, key: str) -> None:
        item = self._open.pop(key, None)
        if item is not None:
            self._unorder(item)
        self._finished.add(key)

    def _forget(self, key: str) -> None:
        self._close(key)
        self._finished.discard(key)
        self.reader.forget(key)

    def _unorder(self, item: _Open) -> None:
        orders = self._order.get(item.kind, [])
        index = bisect.bisect_left(orders, item.order)
        if index < len(orders) and orders[index] == item.order:
            del orders[index]
