"""The worker side of the protocol: a registered, heartbeating ``WorkerSession`` that
claims jobs, and the ``Claim`` through which its holder writes a job's output.

A session beats from a daemon thread every ``timing.heartbeat`` seconds (one
write renews every claim it holds), so a worker loop may block on the GPU for
a while without losing its jobs. Claims are meant to be used from one thread.

Fencing: a claim refuses to write (``LeaseLost``) once the session's last
successful heartbeat is older than ``timing.fence``, or once it has seen that
the job's next claim exists (checked at most every ``timing.check`` seconds).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from . import files
from .errors import CorruptRecord, InvalidPayload, JobStateError, KeyExists, LeaseLost, NotFound, StoreUnavailable
from .finder import JobFinder
from .records import CancelRecord, ClaimRecord, OutputRecord, WorkerRecord, decode
from .state import JobView
from .worker_report import DeviceProbe, WorkerReport

log = logging.getLogger(__name__)


class WorkerSession:
    """One worker process in the registry. Use as a context manager."""

    def __init__(self, queue, host: str, device: str, offers: list[str] = (), version: str = "",
                 kinds: set[str] | None = None, background: bool = True, probe: DeviceProbe | None = None):
        self.queue = queue
        self.store = queue.store
        self.timing = queue.timing
        self.offers = set(offers)
        self.kinds = set(kinds) if kinds is not None else set(queue.kinds)
        unknown = sorted(self.kinds - set(queue.kinds))
        if unknown:
            raise JobStateError(f"cannot serve unknown job kinds: {', '.join(unknown)}")
        self.background = background
        self.key = self.store.new_keys("worker")[0]
        self.record = WorkerRecord(
            id=f"{host}-{os.getpid()}-{secrets.token_hex(2)}",
            host=host, device=device, offers=sorted(self.offers),
            kinds=sorted(label for name in self.kinds for label in queue.kinds[name].labels), version=version, started=time.time(),
        )
        #: what the heartbeat reports beyond who this worker is (device memory, work per kind)
        self.report = WorkerReport(probe)
        self._claims: dict[str, Claim | None] = {}  # None: being created
        self.finder = JobFinder(queue.reader, self.kinds, check=self.timing.check, poll=self.timing.poll)
        self._lock = threading.Lock()
        self._last_beat = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open = False

    @property
    def id(self) -> str:
        return self.record.id

    def __enter__(self) -> WorkerSession:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def open(self) -> None:
        """Register: create the heartbeat file and start beating."""
        self.record.time = time.time()
        self.store.create(self.key, "worker", self.record.to_bytes())
        self._last_beat = time.monotonic()
        self._open = True
        if self.background:
            self._thread = threading.Thread(target=self._beat_forever, name="drivequeue-heartbeat", daemon=True)
            self._thread.start()

    def heartbeat(self) -> bool:
        """Rewrite the heartbeat file now; False if the store could not be reached."""
        report = self.report.as_json()
        with self._lock:
            record = self.record
            record.beat += 1
            record.time = time.time()
            record.claims = list(self._claims)
            record.state = "busy" if record.claims else "idle"
            record.report = report
            data = record.to_bytes()
        try:
            self.store.write(self.key, data)
        except NotFound:
            self._register_again()
            return True
        except StoreUnavailable as exc:
            log.warning("heartbeat failed: %s", exc)
            return False
        self._last_beat = time.monotonic()
        return True

    def set_offers(self, names: list[str]) -> None:
        """Offer ``names`` from now on: ``claim_next`` takes jobs whose kind's ``offer_field``
        names one of them, and the next heartbeat announces them."""
        with self._lock:
            self.offers = set(names)
            self.record.offers = sorted(self.offers)

    def lease_ok(self) -> bool:
        """Whether this worker may still write: its last heartbeat is recent enough."""
        return time.monotonic() - self._last_beat < self.timing.fence

    def claim_next(self, kinds: set[str] | None = None, refresh: bool = True) -> Claim | None:
        """Claim the oldest queued job of ``kinds`` (default: every kind this session serves)
        whose kind's ``offer_field``, if any, names something this worker offers.

        Jobs of a served kind whose request is invalid are failed with the reason on
        the way. Jobs of a kind or payload version this program does not know are
        left alone: they wait for a worker that serves them. None when nothing is queued.
        ``refresh``: False to go by what the last claim learned of the store (a caller that
        claimed a moment ago, for other kinds: it costs no listing).
        """
        if not self._open:
            raise JobStateError("the worker session is not open")
        if not self.lease_ok() and not self.heartbeat():
            return None  # a claim now would be fenced at once
        kinds = self.kinds if kinds is None else set(kinds) & self.kinds
        with self._lock:
            held = {claim.job_key for claim in self._claims.values() if claim is not None}
        for view in self.finder.candidates(kinds, self.offers, held, refresh):
            claim = self._claim(view)
            if claim is None:
                self.finder.look_later(view.key)  # another worker won it
            elif view.needs_failing:
                log.warning("failing job %s: %s", view.key, view.error)
                try:
                    claim.fail(view.error or "the job cannot be run")
                except LeaseLost:
                    continue  # taken over: the new holder fails it
                except StoreUnavailable:
                    claim._end()  # not held through the outage: once it is past, it is claimed and failed again
                    raise
            else:
                return claim
        return None

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until the queue may have changed, at most ``timeout`` (default ``timing.poll``)."""
        return self.store.wait(self.timing.poll if timeout is None else timeout)

    @property
    def claims(self) -> list[Claim]:
        with self._lock:
            return [claim for claim in self._claims.values() if claim is not None]

    def close(self) -> None:
        """End the claims still held and unregister.

        A claim whose final write met an outage gets that ending written once
        more; any other is released (not counted as an attempt).
        """
        if not self._open:
            return
        for claim in self.claims:
            try:
                claim._end_at_close()
            except (LeaseLost, StoreUnavailable, JobStateError):
                pass
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._open = False
        try:
            self.store.delete(self.key)
        except StoreUnavailable as exc:
            log.warning("could not remove the heartbeat file: %s", exc)

    # -- helpers -------------------------------------------------------------------------------

    def _beat_forever(self) -> None:
        while not self._stop.wait(self.timing.heartbeat):
            try:
                self.heartbeat()
            except Exception:  # keep beating; the claims fence themselves if this goes on
                log.exception("heartbeat failed")

    def _register_again(self) -> None:
        """Our heartbeat file was removed, so observers count us dead: give up our claims
        and register under a new key."""
        with self._lock:
            for claim in self._claims.values():
                if claim is not None:
                    claim._lost = "this worker's heartbeat file was removed"
            self._claims.clear()
            self.key = self.store.new_keys("worker")[0]
            self.record.time = time.time()
            data = self.record.to_bytes()
        self.store.create(self.key, "worker", data)
        self._last_beat = time.monotonic()

    def _claim(self, view: JobView) -> Claim | None:
        """Race for ``view``'s next claim; the new output is written before the claim."""
        previous = view.output
        segment = view.segment_count
        lines = list(previous.lines) if previous is not None else []
        ends = list(previous.ends[: segment - 1]) if previous is not None else []
        marks = {name: list(indices) for name, indices in previous.marks.items()} if previous is not None else {}
        meta = dict(previous.meta) if previous is not None and lines else {}
        while len(ends) < segment - 1:
            ends.append(len(lines))  # segments cancelled or failed before they finished
        claim_key = view.next_claim_key
        output_key, = self.store.new_keys("output")
        next_claim_key, = self.store.new_keys("claim")
        attempt = view.used_attempts + 1
        now = time.time()
        output = OutputRecord(job=view.key, claim=claim_key, attempt=attempt, segment=segment,
                              lines=lines, ends=ends, marks=marks, meta=meta, time=now,
                              files=list(previous.files) if previous is not None else [])
        with self._lock:
            # listed before it exists, so that every heartbeat after ``beat`` names it
            self._claims[claim_key] = None
            record = ClaimRecord(job=view.key, segment=segment, attempt=attempt, worker=self.key,
                                 worker_id=self.record.id, output_key=output_key,
                                 next_claim_key=next_claim_key, time=now, beat=self.record.beat)
        try:
            self.store.create_pair((output_key, "output", output.to_bytes()), (claim_key, "claim", record.to_bytes()))
        except KeyExists:
            with self._lock:
                self._claims.pop(claim_key, None)
            return None
        except BaseException:
            with self._lock:
                self._claims.pop(claim_key, None)
            raise
        claim = Claim(self, view, claim_key, record, output)
        with self._lock:
            self._claims[claim_key] = claim
        return claim

    def _drop(self, claim: Claim) -> None:
        with self._lock:
            self._claims.pop(claim.key, None)
        self.finder.ended(claim.job_key, claim._output.state)


class Claim:
    """One attempt at a job, held by this worker.

    ``payload``: the validated first-segment payload; ``segments``: every
    segment's payload (the first one, then each continue); ``settings``: the
    payload with the newest continue's fields applied (what to run with now);
    ``lines``: the job's output lines so far (resumed ones included), with their
    ``marks`` and the output's ``meta``; ``remaining``: how many lines the newest
    segment still needs (kinds with a ``count_field``).

    When ``cancelled`` turns true, stop and call ``complete()``.

    A final write (``complete``, ``fail``, ``crash``, ``release``) that raises
    ``StoreUnavailable`` leaves the claim open and unchanged, still renewed by
    the heartbeat: back off and call it again, so that an outage at the moment
    a job ends does not use up an attempt.
    """

    def __init__(self, session: WorkerSession, view: JobView, key: str, record: ClaimRecord,
                 output: OutputRecord):
        self.session = session
        self.key = key
        self.job_key = view.key
        self.kind = view.job.kind
        self.job_kind = view.kind
        self.payload = dict(view.payload or {})
        self.segments = [dict(p) for p in view.segment_payloads]
        self.attempt = record.attempt
        #: the job was claimed before (an earlier attempt or segment may have left scratch files)
        self.claimed_before = bool(view.claims)
        self._record = record
        self._output = output
        self._cancel_key = view.newest_cancel_key
        self._timing = session.timing
        self._store = session.store
        self._dirty = False
        self._last_write = time.monotonic()
        self._last_takeover_check = time.monotonic()
        self._last_cancel_check = float("-inf")
        self._cancelled = False
        self._cancel_options: dict[str, Any] | None = None
        self._ended = False
        self._lost: str | None = None
        self._unwritten: tuple[str, str | None] | None = None  # an ending whose write failed

    def __repr__(self) -> str:
        return f"<Claim {self.kind} {self.job_key} attempt {self.attempt}>"

    @property
    def settings(self) -> dict[str, Any]:
        merged = dict(self.payload)
        for payload in self.segments[1:]:
            merged.update({k: v for k, v in payload.items() if v is not None and k != "v"})
        count = self.job_kind.count_field if self.job_kind is not None else None
        if count is not None:
            merged[count] = self.segments[-1].get(count)
        return merged

    @property
    def lines(self) -> list[str]:
        return list(self._output.lines)

    @property
    def marks(self) -> dict[str, list[int]]:
        """Named sets of indices of the output lines (see ``append``)."""
        return {name: list(indices) for name, indices in self._output.marks.items()}

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self._output.meta)

    @property
    def line_count(self) -> int:
        return len(self._output.lines)

    @property
    def remaining(self) -> int:
        wanted = self.job_kind.wanted(self.segments[-1]) if self.job_kind is not None else 0
        if not wanted:
            return 0
        ends = self._output.ends
        start = ends[len(self.segments) - 2] if len(self.segments) > 1 else 0
        return max(0, start + wanted - len(self._output.lines))

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled (re-read at most every ``timing.check`` seconds)."""
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= self._timing.check:
            self._last_cancel_check = now
            self._cancelled = self._store.exists(self._cancel_key)
        return self._cancelled

    @property
    def cancel_seen(self) -> bool:
        """Whether ``cancelled`` has turned true (no store call): whether ``complete`` records a cancel."""
        return self._cancelled

    @property
    def cancel_options(self) -> dict[str, Any]:
        """What the cancel asked for (the fields its kind lets a cancel carry, e.g. ``keep``),
        once ``cancelled`` is true; ``{}`` before, or for a cancel file that cannot be read."""
        if not self.cancelled:
            return {}
        if self._cancel_options is None:
            try:
                record = CancelRecord.parse(decode(self._store.read(self._cancel_key)))
                self._cancel_options = (self.job_kind.validate_cancel(record.options)
                                        if self.job_kind is not None else {})
            except (NotFound, CorruptRecord, InvalidPayload):
                self._cancel_options = {}
        return self._cancel_options

    def kept_after_cancel(self) -> int:
        """How many of the lines written stay once this cancelled segment ends (its kind's rule)."""
        written = self.line_count
        if self.job_kind is None or not self.cancelled:
            return written
        start = self._output.ends[len(self.segments) - 2] if len(self.segments) > 1 else 0
        return self.job_kind.kept_after_cancel(self.cancel_options, start, written)

    def append(self, lines: list[str], progress: dict[str, Any] | None = None,
               marks: dict[str, list[int]] | None = None, meta: dict[str, Any] | None = None) -> None:
        """Add output lines; written at once, or within ``timing.flush`` on costly stores.

        ``progress``: a new progress report (see ``set_progress``), written with the lines.
        ``marks``: named sets of indices into ``lines`` (a kind's notes on its lines, e.g.
        those a paragraph break follows), kept beside them; ``meta``: entries merged into
        the output's ``meta`` object. Both are read through the kind's status class.
        """
        if isinstance(lines, str) or not all(isinstance(line, str) for line in lines):
            raise TypeError("append takes a list of strings")
        if progress is not None and not isinstance(progress, dict):
            raise TypeError("progress must be a dict")
        marks = marks or {}
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(lines)
                   for indices in marks.values() for i in indices):
            raise ValueError("marks must be indices into lines")
        if meta is not None:
            json.dumps(meta)  # TypeError now if it is not JSON
        self._check_writable()
        first = len(self._output.lines)
        self._output.lines.extend(lines)
        for name, indices in marks.items():
            self._output.marks.setdefault(name, []).extend(first + i for i in sorted(set(indices)))
        if meta:
            self._output.meta.update(meta)
        if progress is not None:
            self._output.progress = dict(progress)
        self._dirty = True
        self.session.report.wrote(self.kind, len(lines))
        self._write_if_due()

    def set_progress(self, progress: dict[str, Any]) -> None:
        """Report progress for status readers (e.g. ``{"line": 3, "of": 10}``)."""
        if not isinstance(progress, dict):
            raise TypeError("progress must be a dict")
        self._check_writable()
        self._output.progress = dict(progress)
        self._dirty = True
        self._write_if_due()

    def flush(self) -> None:
        """Write buffered lines and progress now."""
        if self._dirty:
            self._check_writable()
            self._write()

    def set_result(self, result: Any) -> None:
        """The job's JSON result (any JSON value), written with the next write (``complete``)."""
        self._output.result = json.loads(json.dumps(result))  # TypeError now if it is not JSON
        self._dirty = True

    def attach(self, path: str | os.PathLike, name: str | None = None) -> str:
        """Upload the local file ``path`` as one of the job's result files (``name``: default
        its file name); listed in the result once the job is done. Returns the name."""
        self._check_writable()
        name = files.check_file_name(Path(path).name if name is None else name)
        files.push(self._store, path, files.result_name(self.job_key, name))
        if name not in self._output.files:
            self._output.files.append(name)
        self._dirty = True
        return name

    def complete(self, result: Any = None) -> None:
        """The newest segment is finished (or was cancelled, if ``cancelled`` was seen);
        ``result``: the job's JSON result, if not set already."""
        if result is not None:
            self.set_result(result)
        self._finish("cancelled" if self._cancelled else "done")

    def fail(self, reason: str) -> None:
        """The job cannot succeed (bad input, something it needs is missing): final, not retried."""
        self._finish("failed", str(reason))

    def crash(self, reason: str) -> None:
        """This attempt broke; the job is retried until ``max_attempts`` are used up."""
        self._finish("crashed", str(reason))

    def release(self) -> None:
        """Give the job back (warm stop); another worker resumes it, no attempt used up."""
        self._finish("released")

    # -- helpers -------------------------------------------------------------------------------

    def _finish(self, state: str, error: str | None = None) -> None:
        self._check_writable()
        output = self._output
        before = (output.state, output.error, list(output.ends))
        if state in ("done", "cancelled"):
            while len(output.ends) < len(self.segments):
                output.ends.append(len(output.lines))
        output.state, output.error = state, error
        try:
            self._write()
        except StoreUnavailable:
            output.state, output.error, output.ends = before  # still open: the caller retries
            self._unwritten = (state, error)
            raise
        except BaseException:
            self._end()
            raise
        self._end()
        self.session.report.ended(self.kind, state)

    def _end_at_close(self) -> None:
        if self._unwritten is not None:
            self._finish(*self._unwritten)
        else:
            self.release()

    def _end(self) -> None:
        self._ended = True
        self.session._drop(self)

    def _check_writable(self) -> None:
        if self._ended:
            raise JobStateError("this claim has already ended")
        if self._lost is None and not self.session.lease_ok():
            self._lost = "this worker's heartbeat is too old"
        now = time.monotonic()
        if self._lost is None and now - self._last_takeover_check >= self._timing.check:
            self._last_takeover_check = now
            if self._store.exists(self._record.next_claim_key):
                self._lost = "another worker took the job over"
        if self._lost is not None:
            self._end()
            raise LeaseLost(self._lost)

    def _write_if_due(self) -> None:
        if time.monotonic() - self._last_write >= self._timing.flush:
            self._write()

    def _write(self) -> None:
        self._output.time = time.time()
        self._store.write(self._record.output_key, self._output.to_bytes())
        self._dirty = False
        self._last_write = time.monotonic()
