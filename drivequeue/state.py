"""The state of a job, computed from its files and the observer's view of worker leases.

Every reader (web app, CLI, worker, gc) computes it the same way (docs/protocol.md,
"State of a job"). Immutable files (job, segments, claims, cancels, final
outputs) are cached for the life of the ``JobReader``; only the tail of each
chain and the newest output are read again. A *scan* takes one listing and
trusts it for which files exist, so jobs that did not change cost no reads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import CorruptRecord, InvalidPayload, NotFound
from .kinds import JobKind
from .leases import LeaseWatch
from .records import (
    CancelRecord,
    ClaimRecord,
    JobRecord,
    OutputRecord,
    SegmentRecord,
    decode,
)
from .status import JobState
from .store import Store
from .timing import Timing


@dataclass
class _Cached:
    """What never changes about one job, as far as it has been read."""

    key: str
    raw: dict[str, Any]
    job: JobRecord | None
    segments: list[SegmentRecord] = field(default_factory=list)
    #: segment -> its cancel's options (None: an older segment that was never cancelled)
    cancelled: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    claims: list[ClaimRecord] = field(default_factory=list)
    claim_keys: list[str] = field(default_factory=list)
    final_outputs: dict[str, OutputRecord] = field(default_factory=dict)
    broken: str | None = None  # a segment or claim file that exists but cannot be read
    checked: tuple[JobKind, dict[str, Any]] | InvalidPayload | str | None = None  # kind and clean payload;
    # a str: the kind and version the job waits for (no kind this program knows serves it)
    checked_segments: int = 0  # how many segments passed validate_continue


@dataclass
class JobView:
    """One job as an observer sees it now."""

    key: str
    job: JobRecord | None
    kind: JobKind | None
    payload: dict[str, Any] | None  # validated first-segment payload
    state: JobState
    error: str | None = None
    segments: list[SegmentRecord] = field(default_factory=list)  # segments 2, 3, ...
    claims: list[ClaimRecord] = field(default_factory=list)
    claim_keys: list[str] = field(default_factory=list)
    output: OutputRecord | None = None  # newest readable output
    used_attempts: int = 0
    holder: str | None = None  # heartbeat key of the worker running it
    #: cancelled, but the worker that was writing has not yet noticed and ended its claim
    stopping: bool = False
    #: the payload or job file is bad in a way a worker should record (claim and fail it)
    needs_failing: bool = False
    #: the kind and payload version the job needs (e.g. ``score v2``) when this program knows
    #: no such kind: no worker of this program claims it, it waits for one that does
    waiting_for: str | None = None

    @property
    def segment_count(self) -> int:
        return 1 + len(self.segments)

    @property
    def segment_payloads(self) -> list[dict[str, Any]]:
        return [self.payload or {}] + [s.payload for s in self.segments]

    @property
    def lines(self) -> list[str]:
        return self.output.lines if self.output is not None else []

    @property
    def lines_requested(self) -> int:
        """Output lines asked for over every segment (kinds with a ``count_field``)."""
        if self.kind is None:
            return 0
        return sum(self.kind.wanted(p) for p in self.segment_payloads)

    @property
    def segment_start(self) -> int:
        """The line count at which the newest segment began."""
        return self.start_of(self.segment_count)

    def start_of(self, segment: int) -> int:
        """The line count at which ``segment`` (1, 2, ...) began, as far as the output tells."""
        if segment == 1:
            return 0
        ends = self.output.ends if self.output is not None else []
        return ends[segment - 2] if len(ends) >= segment - 1 else len(self.lines)

    def cancel_key_of(self, segment: int) -> str:
        return self.job.cancel_key if segment == 1 else self.segments[segment - 2].cancel_key

    @property
    def newest_claim(self) -> ClaimRecord | None:
        return self.claims[-1] if self.claims else None

    @property
    def attempt(self) -> int:
        """The attempt number of the newest claim on the newest segment (0: none yet)."""
        claim = self.newest_claim
        return claim.attempt if claim is not None and claim.segment == self.segment_count else 0

    @property
    def next_claim_key(self) -> str | None:
        if self.job is None:
            return None
        return self.claims[-1].next_claim_key if self.claims else self.job.claim_key

    @property
    def newest_cancel_key(self) -> str | None:
        if self.job is None:
            return None
        return self.segments[-1].cancel_key if self.segments else self.job.cancel_key

    @property
    def created(self) -> float | None:
        return self.job.created if self.job is not None else None

    @property
    def queued_since(self) -> float:
        """When the newest segment was requested: the order of the queue (first in, first out)."""
        if self.segments:
            return self.segments[-1].created
        return self.job.created if self.job is not None else 0.0

    @property
    def sort_key(self) -> tuple[float, str]:
        return (self.queued_since, self.key)


class JobReader:
    """Computes ``JobView``s, caching what is immutable."""

    def __init__(self, store: Store, timing: Timing, leases: LeaseWatch, kinds: dict[str, JobKind]):
        self.store = store
        self.kinds = kinds
        self.timing = timing
        self.leases = leases
        self._cache: dict[str, _Cached] = {}
        # held only while the in-memory chains change; one reader may serve many threads
        self._lock = threading.Lock()
        self._local = threading.local()  # ``reads``: the files one view fetched at once

    # -- public ------------------------------------------------------------------------

    def view(self, key: str, raw: dict[str, Any] | None = None, listing: set[str] | None = None) -> JobView:
        """The view of job ``key``. ``raw``: its job file, already read and decoded.

        ``listing``: keys known to exist (a scan); a key not in it counts as absent.
        Raises ``NotFound`` if the job file does not exist.
        """
        cached = self._cached(key, raw)
        if cached.job is None:
            return self._corrupt(key, cached, cached.raw.get("_error", "corrupt job file"))
        job = cached.job
        if cached.checked is None:
            cached.checked = self._check(job)
        if isinstance(cached.checked, InvalidPayload):
            return self._corrupt(key, cached, str(cached.checked), needs_failing=True)
        if isinstance(cached.checked, str):  # a kind or version this program does not serve
            kind, payload = None, dict(job.payload)
        else:
            kind, payload = cached.checked
        view = JobView(key=key, job=job, kind=kind, payload=payload, state=JobState.QUEUED,
                       waiting_for=cached.checked if kind is None else None)
        self._local.reads = self.store.read_many(self._next_reads(cached)) if listing is None else None
        try:
            return self._view(key, cached, view, kind, listing)
        finally:
            self._local.reads = None

    def _view(self, key: str, cached: _Cached, view: JobView, kind: JobKind | None,
              listing: set[str] | None) -> JobView:
        self._follow_segments(cached, listing)
        self._follow_claims(cached, listing)
        if cached.claims and cached.claims[-1].segment > 1 + len(cached.segments) and listing is not None:
            self._follow_segments(cached, None)  # the listing lagged behind a segment
        with self._lock:
            view.segments = list(cached.segments)
            view.claims = list(cached.claims)
            view.claim_keys = list(cached.claim_keys)
        if cached.broken is not None:
            view.output = self._newest_output(view, cached) if view.claims else None
            view.state, view.error = JobState.FAILED, cached.broken
            return view
        for segment in view.segments[cached.checked_segments:] if kind is not None else ():
            try:
                kind.validate_continue(segment.payload)
            except InvalidPayload as exc:
                view.state, view.error = JobState.FAILED, str(exc)
                view.output = self._newest_output(view, cached) if view.claims else None
                recorded = (view.output is not None and view.output.state == "failed"
                            and view.claims[-1].segment == view.segment_count)
                view.needs_failing = not recorded
                return view
            cached.checked_segments += 1
        self._decide(view, cached, listing)
        if view.state is not JobState.QUEUED:
            view.waiting_for = None  # a worker that serves it has taken it
        return view

    def scan(self) -> list[JobView]:
        """Every job in the store, oldest queued first (one listing, few reads)."""
        entries = self.store.list()
        present = {entry.key for entry in entries}
        # what the listing skipped (a folder named like a claim...) still breaks the chain it is in
        listing = present | self.store.bad.keys()
        views = []
        for entry in entries:
            if entry.name != "job":
                continue
            try:
                views.append(self.view(entry.key, listing=listing))
            except NotFound:
                continue  # removed since the listing
        for key in list(self._cache):
            if key not in present:
                self._cache.pop(key, None)
        views.sort(key=lambda v: v.sort_key)
        return views

    def forget(self, key: str) -> None:
        self._cache.pop(key, None)

    def remember(self, key: str, raw: dict[str, Any]) -> None:
        """Take in a job file this program wrote itself (``raw``: decoded), so that it is not read."""
        if key not in self._cache:
            self._cached(key, raw)

    def known_job(self, key: str) -> dict[str, Any] | None:
        """The decoded job file ``key`` as this reader last read it (it never changes); None if it has not."""
        cached = self._cache.get(key)
        return cached.raw if cached is not None else None

    def read_job(self, key: str) -> dict[str, Any]:
        """Read and decode job ``key`` (``NotFound``); an unreadable one gives ``{"_error": ...}``."""
        try:
            return decode(self.store.read(key))
        except CorruptRecord as exc:
            return {"_error": f"corrupt job file: {exc}"}

    def read_jobs(self, keys: list[str]) -> None:
        """Read the job files ``keys`` that this reader has not read, all at once where the store
        can (``Store.read_many``); a view of them then reads them no more."""
        new = [key for key in keys if key not in self._cache]
        for key, data in self.store.read_many(new).items() if new else ():
            if data is not None:
                try:
                    self._cached(key, decode(data))
                except CorruptRecord:
                    continue  # its view reads it again, and says why it cannot be read

    # -- helpers -------------------------------------------------------------------------

    def _check(self, job: JobRecord) -> tuple[JobKind, dict[str, Any]] | InvalidPayload | str:
        """The kind and clean payload; what the job waits for if no known kind serves its kind and
        payload version; ``InvalidPayload`` if a served one rejects it."""
        kind = self.kinds.get(job.kind)
        version = job.payload.get("v", kind.version if kind is not None else None)
        if kind is None or not kind.serves(version):
            return f"{job.kind} v{version}"
        try:
            return kind, kind.validate(job.payload)
        except InvalidPayload as exc:
            return exc

    def _cached(self, key: str, raw: dict[str, Any] | None) -> _Cached:
        cached = self._cache.get(key)
        if cached is not None and (raw is None or raw is cached.raw or raw == cached.raw):
            return cached
        if raw is None:
            raw = self.read_job(key)
        try:
            job = JobRecord.parse(raw) if "_error" not in raw else None
        except CorruptRecord as exc:
            raw = {**raw, "_error": f"corrupt job file: {exc}"}
            job = None
        if job is None:
            self.store.bad.note(key, "job", f"{raw['_error']}; it shows as failed")
        cached = _Cached(key=key, raw=raw, job=job)
        self._cache[key] = cached
        return cached

    def _corrupt(self, key: str, cached: _Cached, error: str, needs_failing: bool = False) -> JobView:
        view = JobView(key=key, job=cached.job, kind=None, payload=None,
                       state=JobState.FAILED, error=error)
        if cached.job is not None:
            # a parseable job whose content this program rejects: the failure is
            # recorded through a claim so that every reader agrees on it
            self._follow_claims(cached, None)
            with self._lock:
                view.claims, view.claim_keys = list(cached.claims), list(cached.claim_keys)
            output = self._newest_output(view, cached) if view.claims else None
            view.output = output
            view.needs_failing = needs_failing and (output is None or output.state != "failed")
            if output is not None and output.state == "failed" and output.error:
                view.error = output.error
        return view

    def _next_reads(self, cached: _Cached) -> list[str]:
        """The files a view of ``cached`` reads unless it learns something new: the free keys of
        its chains, its newest cancel marker and the newest output (fetched at once)."""
        job, segments, claims = cached.job, cached.segments, cached.claims
        keys = [segments[-1].next_segment_key if segments else job.next_segment_key,
                claims[-1].next_claim_key if claims else job.claim_key]
        if 1 + len(segments) not in cached.cancelled:
            keys.append(segments[-1].cancel_key if segments else job.cancel_key)
        if claims and claims[-1].output_key not in cached.final_outputs:
            keys.append(claims[-1].output_key)
        return keys

    def _fetch_ahead(self, keys: list[str]) -> None:
        """Fetch at once the files a link just found leads to (the next key of its chain, and
        its output or cancel marker), for this view's next reads."""
        reads = getattr(self._local, "reads", None)
        if reads is not None:
            reads.update(self.store.read_many([key for key in keys if key not in reads]))

    def _read(self, key: str) -> bytes:
        """``store.read(key)``, unless this view fetched it already."""
        reads = getattr(self._local, "reads", None) or {}
        if key in reads:
            data = reads[key]
            if data is None:
                raise NotFound(f"no file {key}")
            return data
        return self.store.read(key)

    def _probe(self, cached: _Cached, key: str, listing: set[str] | None, parse, what: str):
        """Read an immutable record; None if it does not exist. A file that exists
        but cannot be read breaks the job's chain (recorded in ``cached.broken``)."""
        if cached.broken is not None or (listing is not None and key not in listing):
            return None
        try:
            return parse(decode(self._read(key)))
        except NotFound:
            return None
        except CorruptRecord as exc:
            cached.broken = f"corrupt {what} file: {exc}"
            self.store.bad.note(key, f"{what} of job {cached.key}", f"{exc}; the job fails")
            return None

    def _follow_segments(self, cached: _Cached, listing: set[str] | None) -> None:
        while True:
            tail = cached.segments[-1].next_segment_key if cached.segments else cached.job.next_segment_key
            segment = self._probe(cached, tail, listing, SegmentRecord.parse, "segment")
            if segment is None:
                return
            if segment.index < 2 or segment.job != cached.key:
                cached.broken = "corrupt segment file: it belongs elsewhere"
                return
            with self._lock:  # another thread may have followed the chain meanwhile
                if segment.index == 2 + len(cached.segments):
                    cached.segments.append(segment)
            if listing is None:
                self._fetch_ahead([segment.next_segment_key, segment.cancel_key])

    def _follow_claims(self, cached: _Cached, listing: set[str] | None) -> None:
        while True:
            tail = cached.claims[-1].next_claim_key if cached.claims else cached.job.claim_key
            claim = self._probe(cached, tail, listing, ClaimRecord.parse, "claim")
            if claim is None:
                return
            if claim.job != cached.key:
                cached.broken = "corrupt claim file: it belongs elsewhere"
                return
            with self._lock:  # another thread may have followed the chain meanwhile
                if tail == (cached.claims[-1].next_claim_key if cached.claims else cached.job.claim_key):
                    cached.claims.append(claim)
                    cached.claim_keys.append(tail)
            if listing is None:
                self._fetch_ahead([claim.next_claim_key, claim.output_key])

    def _cancel_options(self, cached: _Cached, kind: JobKind, cancel_key: str, index: int,
                        listing: set[str] | None, settled: bool = False) -> dict[str, Any] | None:
        """The options of segment ``index``'s cancel (None: not cancelled). Only the cancel
        file's existence is certain: options that cannot be read or checked are left out.
        ``settled``: a newer segment exists, so the answer is final even if it is None."""
        if index in cached.cancelled:
            return cached.cancelled[index]
        if listing is not None and cancel_key not in listing:
            return None
        try:
            options = CancelRecord.parse(decode(self._read(cancel_key))).options
            options = kind.validate_cancel(options) if kind is not None else {}
        except NotFound:
            if settled:
                cached.cancelled[index] = None
            return None
        except CorruptRecord as exc:
            self.store.bad.note(cancel_key, f"cancel of job {cached.key}", f"{exc}; the job is cancelled")
            options = {}
        except InvalidPayload:
            options = {}
        cached.cancelled[index] = options
        return options

    def _newest_output(self, view: JobView, cached: _Cached) -> OutputRecord | None:
        """The newest claim's output, else the newest older one that can be read."""
        for claim in reversed(view.claims):
            output = cached.final_outputs.get(claim.output_key)
            if output is None:
                try:
                    output = OutputRecord.parse(decode(self._read(claim.output_key)))
                except NotFound:
                    continue
                except CorruptRecord as exc:
                    self.store.bad.note(claim.output_key, f"output of job {view.key}",
                                        f"{exc}; an older output is shown")
                    continue
                if output.final:
                    cached.final_outputs[claim.output_key] = output
            return output
        return None

    def _decide(self, view: JobView, cached: _Cached, listing: set[str] | None) -> None:
        """Rules 2-5 of "State of a job"."""
        newest = view.segment_count
        output = view.output = self._newest_output(view, cached) if view.claims else None
        claim = view.newest_claim
        own = output if claim is not None and output is not None and output.claim == view.claim_keys[-1] else None
        if output is not None and output.segment < newest:  # lines of an older segment only
            older = self._cancel_options(cached, view.kind, view.cancel_key_of(output.segment),
                                         output.segment, listing, settled=True)
            if older is not None:
                _cut(view, older, output.segment)
        options = self._cancel_options(cached, view.kind, view.newest_cancel_key, newest, listing)
        if options is not None:
            view.state = JobState.CANCELLED
            view.stopping = (claim is not None and claim.segment == newest and (own is None or not own.final)
                             and self._held(claim, view.claim_keys[-1]))
            _cut(view, options, newest)
            return
        if claim is None or claim.segment != newest:
            return  # never claimed since the newest segment was requested: queued
        if own is not None and own.state in ("done", "failed", "cancelled"):
            view.state = JobState(own.state)
            view.error = own.error
            return
        if own is not None and own.state == "released":
            view.used_attempts = claim.attempt - 1
            reason = None
        elif own is not None and own.state == "crashed":
            view.used_attempts = claim.attempt
            reason = own.error or "the worker crashed"
        elif self._held(claim, view.claim_keys[-1]):
            view.state = JobState.RUNNING
            view.holder = claim.worker
            return
        else:
            view.used_attempts = claim.attempt
            reason = f"worker {claim.worker_id} stopped responding"
        if view.used_attempts >= self.timing.max_attempts:
            view.state = JobState.FAILED
            view.error = f"gave up after {view.used_attempts} attempts; last: {reason}"

    def _held(self, claim: ClaimRecord, claim_key: str) -> bool:
        """The claim's worker is alive and still lists it (a heartbeat written after the
        claim that leaves it out means the worker dropped it)."""
        if not self.leases.alive(claim.worker):
            return False
        record = self.leases.look(claim.worker)
        return record is not None and (claim_key in record.claims or record.beat <= claim.beat)


def _cut(view: JobView, options: dict[str, Any], segment: int) -> None:
    """Drop the lines cancelled ``segment`` does not keep (its kind's rule): the one case
    where lines that were written disappear, and only once, when the cancel is seen."""
    if view.output is None or view.kind is None:
        return
    written = len(view.output.lines)
    kept = view.kind.kept_after_cancel(options, view.start_of(segment), written)
    if kept < written:
        view.output = replace(view.output, lines=view.output.lines[:kept],
                              ends=[min(end, kept) for end in view.output.ends],
                              marks={name: [i for i in indices if i < kept]
                                     for name, indices in view.output.marks.items()})
