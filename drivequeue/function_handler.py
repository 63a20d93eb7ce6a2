"""Plain-function handlers: ``handler(payload, job) -> result``, each claim run in a thread of its own.

The function gets the job's settings and a ``Job`` through which it reports
output lines and progress, keeps scratch files that a later attempt resumes
from, and attaches result files. How it ends decides the claim's ending:

* it returns: the job is done, with the returned JSON value as its result;
* it raises ``JobFailed``: the job failed for good (bad input), not retried;
* it raises ``Stopped`` (``job.check()``): cancelled if the job was cancelled,
  else given back to the queue (a warm stop), no attempt used up;
* a store outage it could not wait out (a stop came): given back;
* ``LeaseLost``: another worker has the job; nothing is written;
* any other exception: this attempt crashed and is retried elsewhere.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import files
from .backoff import Backoff
from .errors import ChecksumMismatch, JobFailed, JobStateError, LeaseLost, NotFound, StoreUnavailable
from .worker import Claim

log = logging.getLogger(__name__)

#: seconds between two progress reports written (the status readers' bar)
PROGRESS_SECONDS = 1.0


class Stopped(Exception):
    """Raised by ``Job.check()`` (or by a handler, with where it stopped as the message):
    the job was cancelled, or the worker is stopping."""


class Job:
    """One claimed job, as a plain-function handler sees it."""

    def __init__(self, claim: Claim, context):
        self.claim = claim
        self.key = claim.job_key
        self.attempt = claim.attempt
        self.store = context.store
        self.device = context.device
        self.workdir = Path(context.cache_dir) / "jobs" / claim.job_key
        self._stop = context.stop
        self._timing = context.timing
        self._cancelled = False
        self._last_progress = float("-inf")
        self._held_since: float | None = None  # a line a coalescing store may still hold
        #: scratch files of this job may exist in the queue (saved now, or by an earlier claim)
        self.has_scratch = claim.claimed_before

    @property
    def segments(self) -> list[dict[str, Any]]:
        return self.claim.segments

    @property
    def lines(self) -> list[str]:
        """Output lines written so far (an earlier attempt's included)."""
        return self.claim.lines

    @property
    def cancelled(self) -> bool:
        if not self._cancelled:
            try:
                self._cancelled = self.claim.cancelled
            except StoreUnavailable:
                pass
        return self._cancelled

    @property
    def cancel_options(self) -> dict[str, Any]:
        """What the cancel asked for (see the kind's ``cancel_fields``); ``{}`` if not cancelled."""
        return self.retrying(lambda: self.claim.cancel_options) if self.cancelled else {}

    def should_stop(self) -> bool:
        """Whether to stop now: a warm stop was requested, or the job was cancelled."""
        return self._stop.requested or self.cancelled

    def check(self) -> None:
        """Raise ``Stopped`` if the handler should stop now (``should_stop``)."""
        if self.should_stop():
            raise Stopped()

    def say(self, line: str) -> None:
        """Write one output line now, waiting out store outages."""
        self.retrying(lambda: self.claim.append([line]))
        self._held_since = time.monotonic()

    def append(self, lines: list[str]) -> None:
        """Add output lines; an outage keeps them for the next write (no waiting)."""
        try:
            self.claim.append(lines)
            self._held_since = time.monotonic()
        except StoreUnavailable as exc:
            log.warning("job %s: output not written yet: %s", self.key, exc)

    def progress(self, report: dict[str, Any]) -> None:
        """Report progress (any JSON object), written at most every second; flushes held lines."""
        now = time.monotonic()
        try:
            if now - self._last_progress >= PROGRESS_SECONDS:
                self._last_progress = now
                self.claim.set_progress(report)
            elif self._held_since is not None and now - self._held_since >= self._timing.flush:
                self._held_since = None
                self.claim.flush()
        except StoreUnavailable as exc:
            log.warning("job %s: progress not written yet: %s", self.key, exc)

    def attach(self, path: str | os.PathLike, name: str | None = None) -> str:
        """Upload a result file (listed in the job's result once it is done); its name."""
        return self.retrying(lambda: self.claim.attach(path, name))

    def save_scratch(self, path: str | os.PathLike, name: str) -> None:
        """Keep a local file in the queue for a later attempt (``load_scratch``); removed when the
        job ends. An outage skips it (the next save tries again)."""
        self.has_scratch = True
        try:
            files.push(self.store, path, files.scratch_name(self.key, name))
        except StoreUnavailable as exc:
            log.warning("job %s: %s not saved: %s", self.key, name, exc)

    def load_scratch(self, name: str, path: str | os.PathLike) -> bool:
        """Download the scratch file ``name`` an earlier attempt saved to ``path``; False if none."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.retrying(lambda: files.pull(self.store, files.scratch_name(self.key, name), path))
        except NotFound:
            return False
        return True

    def fetch(self, name: str, path: str | os.PathLike) -> Path:
        """Download the pushed file ``name`` to ``path``; ``JobFailed`` if it was never pushed."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return self.retrying(lambda: files.pull(self.store, name, path))[1]
        except NotFound:
            raise JobFailed(f"no pushed file named {name!r}: upload it first with `drivequeue push`") from None

    def retrying(self, action: Callable[[], Any]) -> Any:
        """Run ``action``, waiting out store outages; re-raises once a stop is requested."""
        return Backoff(cap=self._timing.backoff_max, stop=self._stop).call(action)


class FunctionRunner:
    """Runs ``handler`` for up to ``concurrency`` claims at once, each in its own thread.

    Room for the next claim opens as soon as a handler returns: its ending is written
    while the loop claims the next job, and ``on_free`` (set by the serve loop) wakes
    the loop at once, so short jobs run back to back.
    """

    def __init__(self, handler: Callable[[dict, Job], Any], context, concurrency: int = 1):
        self.handler = handler
        self.context = context
        self.concurrency = getattr(handler, "concurrency", concurrency)
        self.on_free: Callable[[], None] = lambda: None
        self._running = 0  # handlers that have not returned yet
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def count(self) -> int:
        return self._running

    @property
    def room(self) -> int:
        return self.concurrency - self._running

    def start(self, claim: Claim) -> None:
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        thread = threading.Thread(target=self._run, args=(claim,), name=f"job-{claim.job_key}", daemon=True)
        with self._lock:
            self._running += 1
        self._threads.append(thread)
        thread.start()

    def drain(self, deadline: float) -> None:
        """Wait (until ``deadline``) for running jobs to see the stop and end their claims."""
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop in time; closing the session gives its job back", thread.name)

    def _run(self, claim: Claim) -> None:
        job = Job(claim, self.context)
        resumed = f", resuming after {claim.line_count} lines" if claim.line_count else ""
        log.info("%s job %s started (attempt %d)%s", claim.kind, claim.job_key, claim.attempt, resumed)
        try:
            ending = self._outcome(job, claim)
        finally:
            with self._lock:
                self._running -= 1
            self.on_free()
        if ending is not None:
            self._end(job, *ending)

    def _outcome(self, job: Job, claim: Claim) -> tuple[Callable[[], None], str, bool] | None:
        """Run the handler: how to end the claim, what to log, and whether that ends the job
        (None: the claim is not this worker's any more)."""
        try:
            job.workdir.mkdir(parents=True, exist_ok=True)
            result = self.handler(claim.settings, job)
        except Stopped as exc:
            detail = f" {exc}" if str(exc) else ""
            if job.cancelled:
                return claim.complete, f"cancelled{detail}", True
            return claim.release, f"given back{detail}", False
        except LeaseLost as exc:
            log.warning("%s job %s dropped: %s", claim.kind, claim.job_key, exc)
            return None
        except JobFailed as exc:
            return functools.partial(claim.fail, str(exc)), f"failed: {exc}", True
        except ChecksumMismatch as exc:
            return self._crash(job, str(exc))
        except StoreUnavailable as exc:  # a stop came while the queue was unavailable: no attempt lost
            return claim.release, f"given back: {exc}", False
        except Exception as exc:  # a bug or a broken device: this attempt crashed
            return self._crash(job, f"{type(exc).__name__}: {exc}")
        # a handler may return what it kept as it stopped (a train job asked to keep its model)
        return functools.partial(claim.complete, result), "cancelled, keeping its result" if claim.cancel_seen else "done", True

    def _crash(self, job: Job, reason: str) -> tuple[Callable[[], None], str, bool]:
        """This attempt broke: the job is tried again, unless this was its last attempt."""
        last = job.attempt >= self.context.timing.max_attempts
        what = f"crashed: {reason}" + ("; no attempt is left" if last else "")
        return functools.partial(job.claim.crash, reason), what, last

    def _end(self, job: Job, finish: Callable[[], None], what: str, final: bool = False) -> None:
        """End the claim with ``finish``, waiting out an outage (a failed final write leaves the
        claim open); if a stop comes first, closing the session tries it once more. A ``final``
        ending ends the job: its scratch files go, in the queue and here."""
        try:
            job.retrying(finish)
        except (LeaseLost, JobStateError) as exc:
            log.warning("%s job %s dropped: %s", job.claim.kind, job.key, exc)
            return
        except StoreUnavailable:
            log.warning("%s job %s: the queue stayed unavailable; its end is tried again as the worker stops",
                        job.claim.kind, job.key)
            return
        log.info("%s job %s %s", job.claim.kind, job.key, what)
        if final:
            shutil.rmtree(job.workdir, ignore_errors=True)
            if not job.has_scratch:
                return  # looking for scratch files costs a listing: only where some may exist
            try:
                files.remove_scratch(self.context.store, job.key)
            except StoreUnavailable as exc:  # gc removes them once the store answers
                log.warning("%s job %s: its scratch files stay until gc: %s", job.claim.kind, job.key, exc)
