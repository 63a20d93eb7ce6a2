"""``drivequeue gc``: the retention rule, applied by every worker every ``gc_interval`` and by
``Queue.gc()`` (docs/protocol.md, "Retention").

Every age is told by the store's clock: a file's time of change (``Store.modified``)
against the store's time now (``Store.now``), never against the clock of the machine
running gc, which may be hours off. Finished jobs whose last activity is older than
``retention`` are removed with all their files; queued jobs that waited longer than ``max_queue_wait`` are
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

from . import files
from .errors import CorruptRecord, KeyExists, NotFound
from .records import ClaimRecord, OutputRecord, decode
from .state import JobReader, JobView
from .status import JobState
from .store import KEY_PATTERN, Store
from .timing import Timing


class GarbageCollector:
    """One run of the retention rule over ``store``, reading jobs through ``reader``."""

    def __init__(self, store: Store, reader: JobReader, timing: Timing):
        self.store = store
        self.reader = reader
        self.timing = timing

    def collect(self, now: float | None = None) -> dict[str, int]:
        """Apply the rule as of ``now`` by the store's clock (default: ``store.now()``); what it did,
        by count. Every age is a file's time of change against that clock, so a machine whose own
        clock is off (a worker's, hours ahead) fails and removes nothing early; a store that cannot
        tell the time has nothing removed or failed for its age."""
        now = self.store.now() if now is None else now
        report = {"removed_jobs": 0, "failed_waiting": 0, "removed_workers": 0, "removed_files": 0,
                  "removed_scratch": 0, "removed_blobs": 0}
        views = self.reader.scan()
        referenced: set[str] = set()
        for view in views:
            if self._expired(view, now):
                self._remove_job(view)
                report["removed_jobs"] += 1
                continue
            referenced.update(_files_of(view))
            if view.state is JobState.QUEUED and self._older(_queued_key(view), now, self.timing.max_queue_wait):
                hours = self.timing.max_queue_wait / 3600
                reason = f"no worker took the job within {hours:g} hours"
                if view.waiting_for:
                    reason += f" (none serves {view.waiting_for})"
                written = self._fail_by_claim(view, reason, now)
                if written:
                    referenced.update(written)  # the job's own now, however old the clock says they look
                    report["failed_waiting"] += 1
                    report["removed_scratch"] += files.remove_scratch(self.store, view.key)
        for entry in self.store.list("worker"):  # not renewed (or, if unreadable, not written) for long
            if self._older(entry.key, now, self.timing.retention):
                self.store.delete(entry.key)
                report["removed_workers"] += 1
        report["removed_files"] = self._remove_leftovers(referenced, now)
        report["removed_scratch"] += self._remove_job_files({view.key: view for view in views})
        if now is not None:
            report["removed_blobs"] = files.remove_orphan_blobs(self.store, now - self.timing.retention)
        return report

    def _expired(self, view: JobView, now: float | None) -> bool:
        """Whether the job is past retention: finished with nothing written for that long (an
        unreadable job file: written that long ago)."""
        if view.job is None:
            return self._older(view.key, now, self.timing.retention)
        return view.state.finished and all(self._older(key, now, self.timing.retention)
                                           for key in _activity_keys(view))

    def _older(self, key: str, now: float | None, age: float) -> bool:
        """Whether file ``key`` was last written more than ``age`` seconds before ``now`` by the
        store's clock (a file gone is; one whose time the store cannot tell is not)."""
        if now is None:
            return False
        try:
            written = self.store.modified(key)
        except NotFound:
            return True
        except CorruptRecord as exc:
            self.store.bad.note(key, "file", f"{exc}; kept, its age unknown")
            return False
        return written is not None and now - written > age

    def _fail_by_claim(self, view: JobView, reason: str, now: float) -> tuple[str, str] | None:
        """Record a failure by winning the job's next claim (what a worker would do), as of ``now``;
        the claim and output it wrote, or None if another took the claim first."""
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
            return None
        if not self.store.exists(view.key):  # another gc was removing the job as this one read it
            self.store.delete(claim_key)
            self.store.delete(output_key)
            return None
        return claim_key, output_key

    def _remove_job(self, view: JobView) -> None:
        """Remove the job file first (the job vanishes at once), then the rest."""
        self.store.delete(view.key)
        self.reader.forget(view.key)
        for key in _files_of(view):
            if key != view.key:
                self.store.delete(key)

    def _remove_leftovers(self, referenced: set[str], now: float | None) -> int:
        """Remove old files whose job is gone (left by a gc or a claimer that died midway)."""
        removed = 0
        for entry in self.store.list():
            if entry.name not in ("segment", "cancel", "claim", "output") or entry.key in referenced:
                continue
            if not self._older(entry.key, now, self.timing.retention):
                continue
            if entry.name != "output" and self._job_exists(entry.key):
                continue
            self.store.delete(entry.key)
            removed += 1
        return removed

    def _job_exists(self, key: str) -> bool:
        """Whether the job that file ``key`` names still exists (one that cannot be read names none)."""
        try:
            job = decode(self.store.read(key)).get("job")
        except (NotFound, CorruptRecord):
            return False
        return isinstance(job, str) and KEY_PATTERN.fullmatch(job) is not None and self.store.exists(job)

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


def _queued_key(view: JobView) -> str:
    """The file whose creation queued the job as it is now: its newest segment, else the job file."""
    if not view.segments:
        return view.key
    keys = [view.job.next_segment_key] + [segment.next_segment_key for segment in view.segments]
    return keys[len(view.segments) - 1]


def _activity_keys(view: JobView) -> list[str]:
    """The files a finished job's last activity was written to, the likely newest first."""
    keys = [claim.output_key for claim in view.claims[-1:]]
    if view.segments:
        keys.append(_queued_key(view))
    return keys + [view.key]


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
