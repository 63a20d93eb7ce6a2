"""The serve loop: claim jobs, hand them to handlers by kind, stop warm; written once for every worker.

One process, one loop. Handlers come in two styles (docs/plugins.md): a plain
function ``handler(payload, job) -> result`` run in a thread of its own
(``FunctionRunner``), and a stepped handler for work batched across jobs, whose
``start(claim)`` takes a claim and whose ``step()`` the loop calls while it
holds any. The session's heartbeat thread renews every claim, claims fence
themselves, store outages are waited out with backoff, endings that met an
outage are retried (``Endings``), the queue's ``gc`` runs as the worker starts
and every ``timing.gc_interval`` after, and a stop request (the first signal)
drains the handlers and gives their jobs back. A handler with room gets the next
queued job at once (short jobs run back to back); when nothing it has room for
is queued and nothing needs stepping, the loop sleeps (``drivequeue.wakeup``)
until the store signals a change (inotify, Redis messages), a handler ends a job,
a stop is requested, or ``timing.poll`` passes, so an idle worker costs nothing.
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .backoff import Backoff
from .endings import Endings
from .errors import JobStateError, LeaseLost, StoreUnavailable
from .function_handler import FunctionRunner
from .queue import Queue
from .shutdown import Shutdown
from .urls import redact
from .wakeup import Wakeup
from .worker import Claim, WorkerSession
from .worker_report import DeviceProbe

log = logging.getLogger(__name__)


class Runner(Protocol):
    """What the loop hands claims of a kind to: a ``FunctionRunner`` (a plain-function handler's
    threads) or a stepped handler."""

    @property
    def count(self) -> int: ...  # claims held

    @property
    def room(self) -> int: ...  # claims it can take now

    def start(self, claim: Claim) -> None: ...

    def drain(self, deadline: float) -> None: ...


@runtime_checkable
class Stepped(Runner, Protocol):
    """A handler of jobs that advance together, one ``step`` per turn of the loop while it
    holds claims (see docs/plugins.md)."""

    def step(self) -> None: ...


@dataclass(frozen=True)
class HandlerContext:
    """What a plugin's ``handlers(context)`` gets: where and how its handlers run.

    ``device``: the device the worker was asked to run on (``cpu``, ``cuda``, ``cuda:1``);
    ``stop``: the worker's stop flag; ``endings``: keeps the final writes an outage held up;
    ``cache_dir``: a folder of its own for downloads and work files; ``kinds``: the kinds the
    worker serves (None: every kind), so that a plugin builds only those handlers.
    """

    store: Any
    timing: Any
    device: str
    stop: Shutdown
    endings: Endings
    cache_dir: Path
    kinds: frozenset[str] | None = None


def as_runner(handler: Callable | Stepped, context: HandlerContext) -> Runner:
    """A plain function becomes a ``FunctionRunner``; a stepped handler is used as it is."""
    if isinstance(handler, Stepped):
        return handler
    if callable(handler):
        return FunctionRunner(handler, context)
    raise TypeError(f"not a handler: {handler!r}")


class Server:
    """Serves ``queue`` with ``handlers`` (kind name -> handler) until ``context.stop`` is requested,
    or until ``max_jobs`` jobs have ended. ``probe``: the device's name and memory for the
    heartbeat (``drivequeue.worker_report``)."""

    def __init__(self, queue: Queue, handlers: Mapping[str, Callable | Stepped], context: HandlerContext, *,
                 device_name: str | None = None, version: str = "", drain_seconds: float = 30.0,
                 max_jobs: int | None = None, probe: DeviceProbe | None = None):
        self.queue = queue
        self.timing = queue.timing
        self.stop = context.stop
        self.endings = context.endings
        self.device_name = device_name or context.device
        self.version = version
        self.drain_seconds = drain_seconds
        self.max_jobs = max_jobs
        self.probe = probe
        self.taken = 0
        runners: dict[int, Runner] = {}
        self.by_kind: dict[str, Runner] = {}
        for kind, handler in handlers.items():
            runner = runners.setdefault(id(handler), as_runner(handler, context))
            self.by_kind[kind] = runner
        self.runners = list(runners.values())
        #: the runners the loop steps (a plain function's threads run on their own)
        self.stepped = [runner for runner in self.runners if isinstance(runner, Stepped)]
        self.backoff = Backoff(cap=self.timing.backoff_max, stop=self.stop)
        self._next_gc = 0.0  # monotonic time of the next gc: the first runs at once

    def run(self) -> None:
        session = self._open_session()
        if session is None:
            return
        log.info("worker %s serving %s on %s from %s", session.id, ", ".join(sorted(self.by_kind)),
                 self.device_name, redact(self.queue.store.url))
        try:
            self._serve(session)
        finally:
            try:
                self._drain()
            finally:
                session.close()
                log.info("worker %s stopped", session.id)

    # -- the loop ------------------------------------------------------------------------------

    def _open_session(self) -> WorkerSession | None:
        """A registered session; None if a stop came while the store was unavailable."""

        def register() -> WorkerSession:
            # making a session reserves its heartbeat key: that is a store call too
            session = self.queue.worker(host=socket.gethostname(), device=self.device_name,
                                        offers=self._offers(), version=self.version, kinds=set(self.by_kind),
                                        probe=self.probe)
            session.open()
            return session

        waiting = Backoff(cap=self.timing.backoff_max, stop=self.stop,
                          what="queue store unavailable, waiting to register this worker")
        try:
            return waiting.call(register)
        except StoreUnavailable:
            return None

    def _serve(self, session: WorkerSession) -> None:
        """Claim while anything it has room for is queued; sleep only when nothing is, until the
        store changes, a handler ends a job or a stop is requested (``Wakeup``), or ``poll``."""
        wakeup = Wakeup(self.queue.store, self.timing.backoff_max)
        self.stop.on_request(wakeup.set)
        for runner in self.runners:
            if hasattr(runner, "on_free"):
                runner.on_free = wakeup.set
        wakeup.start()
        next_look = 0.0
        drained = False  # the last look found nothing to claim, and nothing changed since
        try:
            while not self.stop.requested and not self._done_enough():
                try:
                    if self.endings:
                        self.endings.retry()
                    if time.monotonic() >= next_look:
                        drained, next_look = False, time.monotonic() + self.timing.poll
                    if not drained:
                        drained = self._take_jobs(session)
                    self._collect_garbage()
                    busy = [runner for runner in self.stepped if runner.count]
                    for runner in busy:
                        runner.step()
                    if wakeup.wait(0 if busy else next_look - time.monotonic()):
                        drained = False
                    self.backoff.reset()
                except StoreUnavailable as exc:
                    self.backoff.wait(exc)
                    drained = False
        finally:
            wakeup.close()

    def _offers(self) -> list[str]:
        offers: set[str] = set()
        for runner in self.runners:
            offered = getattr(runner, "offers", None)
            if offered is not None:
                offers.update(offered())
        return sorted(offers)

    def _take_jobs(self, session: WorkerSession) -> bool:
        """Claim jobs while a handler has room; True if nothing it has room for is queued."""
        session.set_offers(self._offers())
        looked = False  # a change after the first look wakes the loop: later claims need not look again
        while self.max_jobs is None or self.taken < self.max_jobs:
            kinds = {kind for kind, runner in self.by_kind.items() if runner.room > 0}
            if not kinds:
                return False
            claim = session.claim_next(kinds, refresh=not looked)
            looked = True
            if claim is None:
                return True
            self.taken += 1
            self._start(claim)
        return False

    def _start(self, claim: Claim) -> None:
        try:
            self.by_kind[claim.kind].start(claim)
        except StoreUnavailable:  # e.g. what it needs could not be fetched: give the job back, then wait
            self.endings.end(claim, claim.release, f"{claim.kind} job {claim.job_key} given back")
            raise
        except (LeaseLost, JobStateError) as exc:  # the claim is gone already; nothing to record
            log.warning("%s job %s dropped: %s", claim.kind, claim.job_key, exc)
        except Exception as exc:  # a bug or broken input: this attempt crashed, the worker goes on
            reason = f"{type(exc).__name__}: {exc}"
            log.error("%s job %s crashed: %s", claim.kind, claim.job_key, reason)
            self.endings.end(claim, functools.partial(claim.crash, reason))

    def _collect_garbage(self) -> None:
        """Run the queue's ``gc`` when it is due. Every worker runs it, which is safe; one
        that meets an outage leaves the rest to its next run or to another worker."""
        if not self.timing.gc_interval or time.monotonic() < self._next_gc:
            return
        self._next_gc = time.monotonic() + self.timing.gc_interval
        try:
            report = self.queue.gc()
        except StoreUnavailable as exc:
            log.warning("gc stopped midway (%s); the next run finishes it", exc)
            return
        done = ", ".join(f"{what.replace('_', ' ')}: {count}" for what, count in report.items() if count)
        if done:
            log.info("gc: %s", done)

    def _done_enough(self) -> bool:
        return (self.max_jobs is not None and self.taken >= self.max_jobs
                and not any(runner.count for runner in self.runners) and not self.endings)

    def _drain(self) -> None:
        """Warm stop: let every handler finish what it is writing and give its jobs back, and
        write the endings an outage held up (until the drain time is over; closing the
        session tries them once more)."""
        deadline = time.monotonic() + self.drain_seconds
        for runner in self.runners:
            runner.drain(deadline)
        if self.endings:
            # a stop was requested, so waiting on it would not wait: the drain time bounds it
            waiting = Backoff(cap=self.timing.backoff_max, budget=max(0.0, deadline - time.monotonic()))
            try:
                waiting.call(self.endings.retry)
            except StoreUnavailable:
                pass  # closing the session tries them once more
