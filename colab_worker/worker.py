"""The worker's run loop: claim jobs, decode every story in one batch, train on demand, stop warm.

One process, one loop. Stories advance together (one ``StoryBatch`` step per
model per turn of the loop) and each finished line is written at once; a train
job runs in a thread beside them. Endings that met a store outage are retried
with the loop's backoff (``endings``), and the queue's ``gc`` runs as the worker
starts and every ``timing.gc_interval`` after. When nothing runs, the loop blocks in
``session.wait`` (filesystem notifications on a local folder, a sleep of
``timing.poll`` elsewhere), so an idle worker costs nothing and wakes when a job
file appears.
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from importlib import metadata

from drivequeue import Claim, JobStateError, LeaseLost, Queue, StoreUnavailable, WorkerSession
from drivequeue.urls import redact

from .backoff import Backoff
from .config import WorkerConfig
from .endings import Endings
from .model_shelf import ModelShelf
from .shutdown import Shutdown
from .story_handler import StoryHandler
from .train_handler import TrainHandler

log = logging.getLogger(__name__)


def package_version() -> str:
    try:
        return metadata.version("colab-story-server")
    except metadata.PackageNotFoundError:
        return "unknown"


class Worker:
    """Serves ``queue`` until ``stop`` is requested (or ``max_jobs`` jobs have ended)."""

    def __init__(self, queue: Queue, shelf: ModelShelf, config: WorkerConfig, device, device_name: str,
                 stop: Shutdown, max_jobs: int | None = None):
        self.queue = queue
        self.timing = queue.timing
        self.shelf = shelf
        self.config = config
        self.device_name = device_name
        self.stop = stop
        self.max_jobs = max_jobs
        self.taken = 0
        self.endings = Endings()
        self.stories = StoryHandler(shelf, device, config.max_batch, config.chunk, self.endings)
        self.training = TrainHandler(shelf, device, stop, config.checkpoint_seconds)
        self.backoff = Backoff(self.timing.backoff_max)
        self._next_gc = 0.0  # monotonic time of the next gc: the first runs at once

    def run(self) -> None:
        session = self._open_session()
        if session is None:
            return
        log.info("worker %s serving %s on %s from %s", session.id, ", ".join(sorted(session.models)),
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
        while not self.stop.requested:
            try:
                # making a session reserves its heartbeat key: that is a store call too
                session = self.queue.worker(host=socket.gethostname(), device=self.device_name,
                                            models=self.shelf.names(), version=package_version())
                session.open()
                return session
            except StoreUnavailable as exc:
                self._back_off(exc, "to register this worker")
        return None

    def _serve(self, session: WorkerSession) -> None:
        next_look = 0.0
        changed = True
        while not self.stop.requested and not self._done_enough():
            try:
                if self.endings:
                    self.endings.retry()
                if changed or time.monotonic() >= next_look:
                    self._take_jobs(session)
                    next_look = time.monotonic() + self.timing.poll
                self._collect_garbage()
                self.training.reap()
                if self.stories.count:
                    self.stories.settle(self.timing.flush)
                    self.stories.check_cancels()
                    self.stories.step()
                    changed = False
                else:
                    changed = session.wait(max(0.0, next_look - time.monotonic()))
                self.backoff.reset()
            except StoreUnavailable as exc:
                self._back_off(exc)
                changed = True

    def _take_jobs(self, session: WorkerSession) -> None:
        self.shelf.refresh(session)
        while self.max_jobs is None or self.taken < self.max_jobs:
            kinds = set()
            if self.stories.room > 0:
                kinds.add("story")
            if self.training.idle:
                kinds.add("train")
            if not kinds:
                return
            claim = session.claim_next(kinds)
            if claim is None:
                return
            self.taken += 1
            self._start(claim)

    def _start(self, claim: Claim) -> None:
        handler = self.stories if claim.kind == "story" else self.training
        try:
            handler.start(claim)
        except StoreUnavailable:  # e.g. its model could not be fetched: give the job back, then wait
            self.endings.end(claim, claim.release, f"{claim.kind} job {claim.job_key} given back")
            raise
        except (LeaseLost, JobStateError) as exc:  # the claim is gone already; nothing to record
            log.warning("%s job %s dropped: %s", claim.kind, claim.job_key, exc)
        except Exception as exc:  # a bug or a broken model: this attempt crashed, the worker goes on
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
                and not self.stories.count and self.training.idle and not self.endings)

    def _back_off(self, exc: Exception, what: str = "") -> None:
        delay = self.backoff.next_delay()
        waiting = f"waiting {what} " if what else ""
        log.warning("queue store unavailable (%s); %sretrying in %.1f s", exc, waiting, delay)
        self.stop.sleep(delay)

    def _drain(self) -> None:
        """Warm stop: finish current lines, let training checkpoint, give every job back,
        and write the endings an outage held up (until the drain time is over; closing
        the session tries them once more)."""
        deadline = time.monotonic() + self.config.drain_seconds
        self.stories.drain(deadline)
        self.training.stop_and_wait(deadline)
        while self.endings and time.monotonic() < deadline:
            try:
                self.endings.retry()
            except StoreUnavailable as exc:
                delay = min(self.backoff.next_delay(), max(0.0, deadline - time.monotonic()))
                log.warning("queue store unavailable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)  # a stop was requested: ``stop.sleep`` would not wait
