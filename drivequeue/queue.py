"""``Queue``: the producer side of the protocol (submit, status, continue, cancel), the
registry of workers, and the entry points of ``gc`` (``drivequeue.retention``) and of workers
(``Queue.worker`` gives a ``WorkerSession``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import files, who_serves
from .errors import ConfigError, InvalidPayload, JobFailed, JobStateError, KeyExists, NotFound
from .kinds import JobKind, get_kind
from .leases import LeaseWatch
from .job_ids import hash_secret, make_job_id, new_secret, parse_job_id, secret_matches
from .records import CancelRecord, JobRecord, SegmentRecord, decode
from .retention import GarbageCollector
from .state import JobReader, JobView
from .status import JobState, JobStatus, WorkerInfo
from .store import KEY_PATTERN, Store
from .timing import Timing


class Queue:
    """A job queue on ``store``; ``timing`` defaults to ``Timing.from_env`` for that store.

    ``kinds``: the job kinds this program knows, by name (default: those of the
    installed plugins and ``DRIVEQUEUE_PLUGINS``, see ``drivequeue.plugins``).
    ``operator``: whoever holds the store's credentials (the ``drivequeue`` command line) may
    also name a job by its bare store key, as ``jobs()`` lists it, without the secret.
    """

    def __init__(self, store: Store, timing: Timing | None = None, kinds: dict[str, JobKind] | None = None,
                 *, operator: bool = False):
        from .plugins import default_kinds

        self.store = store
        self.operator = operator
        if timing is None:
            defaults = getattr(store, "default_timing", None)
            if defaults is None:
                raise ConfigError(f"{type(store).__name__} sets no default_timing: pass Queue(store, timing)")
            timing = Timing.from_env(defaults)
        self.timing = timing
        self.kinds = default_kinds() if kinds is None else dict(kinds)
        self.leases = LeaseWatch(store, self.timing.lease)
        self.reader = JobReader(store, self.timing, self.leases, self.kinds)

    # -- producers -----------------------------------------------------------------------

    def new_job_id(self) -> str:
        """Reserve a public id, so that submitting with it twice makes one job."""
        return make_job_id(self.store.new_keys("job")[0], new_secret())

    def submit(self, kind: str, payload: dict[str, Any], job_id: str | None = None) -> str:
        """Queue a job; returns its public id. ``InvalidPayload`` if the request is bad."""
        job_kind = get_kind(self.kinds, kind)
        clean = job_kind.validate(payload)
        key, secret = parse_job_id(job_id if job_id is not None else self.new_job_id())
        claim_key, = self.store.new_keys("claim")
        cancel_key, = self.store.new_keys("cancel")
        segment_key, = self.store.new_keys("segment")
        record = JobRecord(
            kind=job_kind.name,
            payload=clean,
            secret_hash=hash_secret(secret),
            created=time.time(),
            claim_key=claim_key,
            cancel_key=cancel_key,
            next_segment_key=segment_key,
            parent=clean.get("parent"),
        )
        data = record.to_bytes()
        try:
            self.store.create(key, "job", data)
        except KeyExists:
            self._verified(key, secret)  # the same id again: the job already exists
        else:
            self.reader.remember(key, decode(data))
        return make_job_id(key, secret)

    def status(self, job_id: str, after: int = 0) -> JobStatus:
        """The job now, with the lines after the first ``after`` (its ``to_dict()`` is what the
        web API serves)."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidPayload("after must be a whole number, 0 or more", field="after")
        return self._status_of(job_id, self._view(job_id), after)

    def continue_job(self, job_id: str, payload: dict[str, Any]) -> JobStatus:
        """Ask for more of a finished job (a new segment); it is queued again."""
        view = self._view(job_id)
        if view.job is None or view.kind is None or view.needs_failing:
            raise JobStateError(f"this job cannot be continued: {view.error}")
        if not view.state.finished:
            raise JobStateError(f"the job is {view.state.value}; wait until it has finished")
        if view.stopping:
            raise JobStateError("the job was cancelled and its worker is still stopping; try again in a few seconds")
        clean = view.kind.validate_continue(payload)
        cap = view.kind.max_count
        if cap is not None and view.lines_requested + view.kind.wanted(clean) > cap:
            raise InvalidPayload(f"a {view.kind.name} holds at most {cap} lines")
        tail = view.segments[-1].next_segment_key if view.segments else view.job.next_segment_key
        cancel_key, next_key = self.store.new_keys("cancel")[0], self.store.new_keys("segment")[0]
        segment = SegmentRecord(job=view.key, index=view.segment_count + 1, payload=clean,
                                created=time.time(), cancel_key=cancel_key, next_segment_key=next_key)
        try:
            self.store.create(tail, "segment", segment.to_bytes())
        except KeyExists:
            raise JobStateError("the job was continued by another request just now") from None
        return self.status(job_id)

    def cancel(self, job_id: str, options: dict[str, Any] | None = None) -> JobStatus:
        """Cancel a queued or running job (a running one stops within ``check`` seconds).

        ``options``: what the job's kind lets a cancel say (e.g. how many lines the reader
        had seen); a
        finished job can still be cancelled when its kind then keeps fewer lines
        (the reader was behind). ``InvalidPayload`` for bad options.
        """
        view = self._view(job_id)
        clean = view.kind.validate_cancel(options if options is not None else {}) if view.kind else {}
        if view.state is JobState.DONE and not self._cancel_cuts(view, clean):
            raise JobStateError("the job has already finished")
        if view.state is JobState.FAILED:
            raise JobStateError("the job has already failed")
        if view.state is not JobState.CANCELLED:
            record = CancelRecord(job=view.key, segment=view.segment_count, time=time.time(), options=clean)
            try:
                self.store.create(view.newest_cancel_key, "cancel", record.to_bytes())
            except KeyExists:
                pass  # cancelled twice: the first cancel's options stand
            files.remove_scratch(self.store, view.key)  # the job has ended (its worker removes any it adds)
        return self.status(job_id)

    @staticmethod
    def _cancel_cuts(view: JobView, options: dict[str, Any]) -> bool:
        """Whether a cancel with ``options`` keeps fewer lines than the job wrote (a kind this
        program does not know keeps them all)."""
        if view.kind is None:
            return False
        written = len(view.lines)
        return view.kind.kept_after_cancel(options, view.segment_start, written) < written

    def wait(self, job_id: str, timeout: float | None = None) -> JobStatus:
        """The job's status once it has finished; ``TimeoutError`` after ``timeout`` seconds.

        Between looks it waits for the store to signal a change, at most ``read`` seconds at
        first, twice as long each time up to ``poll``: a short job is seen done soon after it
        ends, and a long one costs few looks on a store that cannot signal (Drive)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.store.wait(0)  # start watching before the first read
        view = self._view(job_id, listing=self._listing(), reread=False)
        pause = min(self.timing.read, self.timing.poll) if self.timing.read > 0 else self.timing.poll
        while True:
            if view.state.finished and not view.stopping:
                return self._status_of(job_id, view, 0)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"the job is still {view.state.value} after {timeout:g} s")
            self.store.wait(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(pause * 2, self.timing.poll)
            # the state alone: no queue position or worker to look up
            view = self.reader.view(view.key, listing=self._listing())

    def result(self, job_id: str, timeout: float | None = None) -> Any:
        """Wait for the job to finish and return its JSON result; ``JobFailed`` if it failed or
        was cancelled, ``TimeoutError`` after ``timeout`` seconds."""
        status = self.wait(job_id, timeout)
        if status.state is not JobState.DONE:
            said = "failed" if status.state is JobState.FAILED else "was cancelled"
            raise JobFailed(f"the job {said}" + (f": {status.error}" if status.error else ""))
        return status.result

    def fetch_files(self, job_id: str, folder: str | Path) -> list[Path]:
        """Download the files the job attached to its result into ``folder``; their paths."""
        status = self.status(job_id)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        key, _ = parse_job_id(job_id)
        return [files.pull(self.store, files.result_name(key, name), folder / name)[1] for name in status.files]

    # -- observers -----------------------------------------------------------------------

    def follow_changes(self, period: float) -> None:
        """Read this queue as an observer that may lag up to ``period`` seconds (the web app):
        on Drive, one ``changes.list`` per period tells which files to fetch again, and
        files that did not change (finished jobs, immutable records) cost nothing."""
        if period > 0:
            self.store.follow_changes(period)

    def jobs(self) -> list[dict[str, Any]]:
        """A summary of every job, oldest first (no secrets: ids are not included)."""
        views = self.reader.scan()
        online = self._online() if any(view.state is JobState.QUEUED for view in views) else []
        return [self._summary(view, online) for view in views]

    def workers(self, unreadable: bool = False) -> list[dict[str, Any]]:
        """The worker registry: one entry per heartbeat file, with ``online``.

        A heartbeat file that cannot be read is left out; with ``unreadable`` it
        is listed last as ``{"key", "error", "online": False}``.
        """
        now = time.time()
        entries = []
        bad = []
        keys = set()
        for entry in self.store.list("worker"):
            keys.add(entry.key)
            record = self.leases.look(entry.key, reuse=False)
            if record is None:
                if entry.key in self.leases.unreadable:
                    bad.append({"key": entry.key, "error": self.leases.unreadable[entry.key], "online": False})
                continue
            entries.append({
                "key": entry.key,
                "id": record.id,
                "host": record.host,
                "device": record.device,
                "offers": record.offers,
                "kinds": record.kinds,
                "version": record.version,
                "protocol": record.protocol,
                "last_seen": record.time,
                "started": record.started,
                "state": record.state,
                "claims": len(record.claims),
                "report": record.report,
                "online": self.leases.online(entry.key, now),
            })
        self.leases.forget(keys)
        entries.sort(key=lambda e: (not e["online"], e["id"]))
        return entries + bad if unreadable else entries

    def gc(self, now: float | None = None) -> dict[str, int]:
        """Apply the retention rule and fail jobs that waited too long (``drivequeue.retention``);
        what was removed or failed, by count."""
        return GarbageCollector(self.store, self.reader, self.timing).collect(now)

    # -- workers -----------------------------------------------------------------------------

    def worker(self, host: str, device: str, offers: list[str] = (), version: str = "",
               kinds: set[str] | None = None, background: bool = True, probe=None):
        """A ``WorkerSession`` (a context manager) that registers and heartbeats a worker.

        ``background``: beat from a daemon thread every ``timing.heartbeat``
        seconds (default); otherwise the caller must call ``session.heartbeat()``.
        ``probe``: tells each heartbeat the device's name and memory (``worker_report``).
        """
        from .worker import WorkerSession

        return WorkerSession(self, host=host, device=device, offers=offers, version=version,
                             kinds=kinds, background=background, probe=probe)

    # -- helpers -------------------------------------------------------------------------------

    def _verified(self, key: str, secret: str, raw: dict[str, Any] | None = None) -> dict[str, Any]:
        """The job file ``key`` (``raw``: as read before; None: read it), if ``secret`` is its."""
        raw = self.reader.read_job(key) if raw is None else raw
        # a file that is not even JSON cannot be checked; it only shows as failed
        if "_error" not in raw and not secret_matches(secret, raw.get("secret_hash")):
            raise NotFound("no such job")
        return raw

    def _view(self, job_id: str, listing: set[str] | None = None, reread: bool = True) -> JobView:
        """The job ``job_id`` names. ``reread``: read its file again even if it was read before
        (which tells a job removed since); False where a job known once is enough (``wait``)."""
        if self.operator and isinstance(job_id, str) and KEY_PATTERN.fullmatch(job_id):
            if job_id not in {entry.key for entry in self.store.list("job")}:
                raise NotFound("no such job")  # another record's key (a worker's, a pushed file's...)
            return self.reader.view(job_id, raw=self.reader.read_job(job_id), listing=listing)
        key, secret = parse_job_id(job_id)
        try:
            raw = self._verified(key, secret, None if reread else self.reader.known_job(key))
        except NotFound:
            raise NotFound("no such job") from None
        return self.reader.view(key, raw=raw, listing=listing)

    def _listing(self) -> set[str] | None:
        """The keys that exist, where one listing costs less than probing absent files (Drive)."""
        return {entry.key for entry in self.store.list()} if self.store.lists_cheaply else None

    def _online(self) -> list[dict[str, Any]]:
        return [worker for worker in self.workers() if worker["online"]]

    def _waiting(self, view: JobView) -> tuple[str | None, int | None]:
        """For a queued job: what it waits for when no online worker serves it, and its place
        among the queued jobs that the workers serving it would take first (when none serves
        it, the queued jobs with the same needs). ``(None, None)`` for any other job."""
        if view.state is not JobState.QUEUED:
            return None, None
        online = self._online()
        serving = [worker for worker in online if who_serves.serves(worker, view)]

        def taken_first(other: JobView) -> bool:
            if serving:
                return any(who_serves.serves(worker, other) for worker in serving)
            return who_serves.needs(other) == who_serves.needs(view)

        ahead = sum(1 for other in self.reader.scan() if other.state is JobState.QUEUED and other.job is not None
                    and other.sort_key < view.sort_key and taken_first(other))
        return view.waiting_for or who_serves.unserved(view, online), ahead + 1

    def _worker_info(self, view: JobView) -> WorkerInfo | None:
        if view.holder is None:
            return None
        record = self.leases.look(view.holder)
        if record is None:
            return None
        return WorkerInfo(id=record.id, host=record.host, device=record.device, last_seen=record.time)

    def _status_of(self, job_id: str, view: JobView, after: int) -> JobStatus:
        lines = view.lines
        output = view.output
        done = output is not None and view.state is JobState.DONE
        # a handler that stops as asked may still end with a result (a train job keeping its model)
        kept = output is not None and view.state is JobState.CANCELLED and output.final and \
            output.segment == view.segment_count and output.result is not None
        status_class = view.kind.status_class if view.kind is not None else JobStatus
        waiting_for, position = self._waiting(view)
        return status_class(
            id=job_id,
            kind=view.job.kind if view.job is not None else None,
            state=view.state,
            stopping=view.stopping,
            lines=lines[after:],
            after=after,
            line_count=len(lines),
            lines_requested=view.lines_requested,
            marks=output.marks if output is not None else {},
            meta=output.meta if output is not None else {},
            error=view.error,
            queue_position=position,
            attempt=view.attempt,
            worker=self._worker_info(view),
            progress=output.progress if output is not None and view.state is JobState.RUNNING else {},
            created=view.created,
            payload=view.payload,
            segments=view.segment_count,
            parent=view.job.parent if view.job is not None else None,
            waiting_for=waiting_for,
            result=output.result if done or kept else None,
            files=output.files if done or kept else (),
        )

    def _summary(self, view: JobView, online: list[dict[str, Any]]) -> dict[str, Any]:
        queued = view.state is JobState.QUEUED
        return {
            "key": view.key,
            "kind": view.job.kind if view.job is not None else None,
            "status": view.state.value,
            "line_count": len(view.lines),
            "lines_requested": view.lines_requested,
            "waiting_for": view.waiting_for or (who_serves.unserved(view, online) if queued else None),
            "created": view.created,
            "queued_since": view.queued_since,
            "attempt": view.attempt,
            "segments": view.segment_count,
            "error": view.error,
        }
