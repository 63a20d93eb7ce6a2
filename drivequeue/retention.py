"""``drivequeue gc``: the retention rule, applied by every worker every ``gc_interval`` and by
``Queue.gc()`` (docs/protocol.md, "Retention").

Finished jobs whose last activity is older than ``retention`` are removed with
all their files; queued jobs that waited longer than ``max_queue_wait`` are
failed; heartbeat files not renewed (or, if unreadable, not written) for
``retention`` are removed; so are job files that cannot be read, once written
longer ago than that, and files left behind by a removed job; so are the scratch
files of jobs that ended, the result files of jobs that are gone, and blobs older
than ``retention`` that no pushed file names.

Several processes may run it at once: every removal tolerates a file that is
already gone, and a waiting job is failed by winning its next claim, which only
one of them can.
"""

from __future__ import annotations

import time

from . import files
from .errors import CorruptRecord, KeyExists, NotFound
from .records import ClaimRecord, OutputRecord, WorkerRecord, decode
from .state import JobReader, JobView
from .status import JobState
from .store import Store
from .timing import Timing


class GarbageCollector:
    """One run of the retention rule over ``store``, reading jobs through ``reader``."""

    def __init__(self, store: Store, reader: JobReader, timing: Timing):
        self.store = store
        self.reader = reader
        self.timing = timing

    def collect(self, now: float | None = None) -> dict[str, int]:
        """Apply the rule as of ``now`` (default: the wall clock); what it did, by count."""
        now = time.time() if now is None else now
        report = {"removed_jobs": 0, "failed_waiting": 0, "removed_workers": 0, "removed_files": 0,
                  "removed_scratch": 0, "removed_blobs": 0}
        views = self.reader.scan()
        referenced: set[str] = set()
        for view in views:
            if view.job is None:  # unreadable: it shows as failed until its file is old
                expired = self._written_before(view.key, now - self.timing.retention)
            else:
                expired = view.state.finished and now - view.last_activity > self.timing.retention
            if expired:
                self._remove_job(view)
                report["removed_jobs"] += 1
            else:
                referenced.update(_files_of(view))
                if view.state is JobState.QUEUED and now - view.queued_since > self.timing.max_queue_wait:
                    hours = self.timing.max_queue_wait / 3600
                    reason = f"no worker took the job within {hours:g} hours"
                    if view.waiting_for:
                        reason += f" (none serves {view.waiting_for})"
                    if self._fail_by_claim(view, reason, now):
                        report["failed_waiting"] += 1
                        report["removed_scratch"] += files.remove_scratch(self.store, view.key)
        for entry in self.store.list("worker"):
            try:
                record = WorkerRecord.parse(decode(self.store.read(entry.key)))
                stale = now - record.time > self.timing.retention
            except NotFound:
                continue
            except CorruptRecord:  # ignored by every reader; listed by `drivequeue workers` until it is old
                stale = self._written_before(entry.key, now - self.timing.retention)
            if stale:
                self.store.delete(entry.key)
                report["removed_workers"] += 1
        report["removed_files"] = self._remove_leftovers(referenced, now)
        report["removed_scratch"] += self._remove_job_files({view.key: view for view in views})
        report["removed_blobs"] = files.remove_orphan_blobs(self.store, now - self.timing.retention)
        return report

    def _fail_by_claim(self, view: JobView, reason: str, now: float) -> bool:
        """Record a failure by winning the job's next claim (what a worker would do), as of ``now``."""
        claim_key = view.next_claim_key
        output_key, = self.store.new_keys("output")
        next_claim_key, = self.store.new_keys("claim")
        output = OutputRecord(job=view.key, claim=claim_key, attempt=view.used_attempts + 1,
                              segment=view.segment_count, lines=list(view.lines),
                              ends=list(view.output.ends) if view.output else [],
                              marks=dict(view.output.marks) if view.output else {},
                              meta=dict(view.output.meta) if view.output else {},
                              state="failed", error=reason, time=now)
        self.store.create(output_key, "output", output.to_bytes())
        claim = ClaimRecord(job=view.key, segment=view.segment_count, attempt=output.attempt,
                            worker=None, worker_id="gc", output_key=output_key,
                            next_claim_key=next_claim_key, time=now)
        try:
            self.store.create(claim_key, "claim", claim.to_bytes())
        except KeyExists:
            self.store.delete(output_key)  # a worker (or another gc) took it after all
            return False
        if not self.store.exists(view.key):  # another gc was removing the job as this one read it
            self.store.delete(claim_key)
            self.store.delete(output_key)
            return False
        return True

    def _remove_job(self, view: JobView) -> None:
        """Remove the job file first (the job vanishes at once), then the rest."""
        self.store.delete(view.key)
        self.reader.forget(view.key)
        for key in _files_of(view):
            if key != view.key:
                self.store.delete(key)

    def _remove_leftovers(self, referenced: set[str], now: float) -> int:
        """Remove old files whose job is gone (left by a gc or a claimer that died midway)."""
        removed = 0
        for entry in self.store.list():
            if entry.name not in ("segment", "cancel", "claim", "output") or entry.key in referenced:
                continue
            try:
                raw = decode(self.store.read(entry.key))
            except NotFound:
                continue
            except CorruptRecord:
                raw = {}
            stamp = raw.get("time", raw.get("created", 0))
            if isinstance(stamp, (int, float)) and now - stamp <= self.timing.retention:
                continue
            job = raw.get("job")
            if isinstance(job, str) and self.store.exists(job) and entry.name != "output":
                continue
            self.store.delete(entry.key)
            removed += 1
        return removed


    def _written_before(self, key: str, cutoff: float) -> bool:
        """Whether file ``key`` was last written before ``cutoff`` (a store that cannot tell: yes)."""
        try:
            written = self.store.modified(key)
        except NotFound:
            return True
        except CorruptRecord as exc:  # the store cannot tell its age either: kept
            self.store.bad.note(key, "file", str(exc))
            return False
        return written is None or written < cutoff

    def _remove_job_files(self, views: dict[str, JobView]) -> int:
        """Remove the scratch files of jobs that ended or are gone, and the result files of jobs
        that are gone; how many scratch files were removed."""
        removed = 0
        for stored in files.stored_files(self.store):
            owner = files.job_of(stored.name)
            if owner is None:
                continue
            job_key, scratch = owner
            view = views.get(job_key)
            gone = view is None and not self.store.exists(job_key)
            if gone or (scratch and view is not None and view.state.finished):
                files.remove(self.store, stored.name)
                removed += scratch
        return removed


def _files_of(view: JobView) -> set[str]:
    """Keys of the files that belong to ``view``'s job (some may not exist), the keys reserved for
    its next segment and claim included: a file there that cannot be read is the job's own."""
    keys = {view.key}
    if view.job is None:
        return keys
    keys.add(view.job.next_segment_key)
    keys.update(s.next_segment_key for s in view.segments)
    keys.add(view.job.cancel_key)
    keys.update(segment.cancel_key for segment in view.segments)
    keys.update(view.claim_keys)
    keys.add(view.next_claim_key)
    keys.update(claim.output_key for claim in view.claims)
    return keys
