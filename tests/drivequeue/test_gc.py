"""Retention and waiting limits: ``Queue.gc``."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter

import pytest

from drivequeue import JobState, LocalStore, Queue, Timing, files, open_store
from drivequeue.errors import InvalidKey
from drivequeue.records import JobRecord, OutputRecord

from tests.helpers import age

from .lines_plugin import BY_NAME, LINES

DAY = 24 * 3600.0


def finished_job(queue):
    job_id = queue.submit("lines", {"text": "x", "count": 1})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["line"])
        claim.complete()
    queue.continue_job(job_id, {"count": 1})
    queue.cancel(job_id)
    return job_id


def test_finished_jobs_are_kept_until_the_retention_time_then_removed_whole(queue, store):
    job_id = finished_job(queue)
    assert queue.gc()["removed_jobs"] == 0
    assert queue.status(job_id)["status"] == "cancelled"
    report = queue.gc(now=time.time() + queue.timing.retention + 60)
    assert report["removed_jobs"] == 1
    assert store.list() == []


def test_running_jobs_are_neither_removed_nor_failed(queue, store):
    first = queue.submit("lines", {"text": "x"})
    second = queue.submit("lines", {"text": "y"})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        worker.claim_next()
        worker.claim_next()  # both running now
        later = time.time() + queue.timing.retention + 60
        queue.gc(now=later)
        assert {queue.status(first)["status"], queue.status(second)["status"]} == {"running"}


def test_a_job_that_waited_too_long_for_a_worker_fails_with_the_reason(queue, other_queue):
    job_id = queue.submit("lines", {"text": "x", "tool": "nobody-serves-this"})
    fresh = queue.submit("lines", {"text": "y"})
    now = time.time()
    assert queue.gc(now=now)["failed_waiting"] == 0
    report = queue.gc(now=queue.status(job_id)["created"] + queue.timing.max_queue_wait + 1)
    assert report["failed_waiting"] == 2
    status = other_queue.status(job_id)
    assert status["status"] == "failed" and "no worker took the job within 6 hours" in status["error"]
    assert other_queue.status(fresh)["status"] == "failed"
    with other_queue.worker(host="h", device="cpu", offers=["default", "nobody-serves-this"]) as worker:
        assert worker.claim_next() is None


def test_heartbeat_files_of_long_dead_workers_are_removed(queue, store):
    dead = queue.worker(host="h", device="cpu", offers=["default"], background=False)
    dead.open()
    assert queue.gc()["removed_workers"] == 0
    assert queue.gc(now=time.time() + queue.timing.retention + 60)["removed_workers"] == 1
    assert store.list("worker") == []


def test_unreadable_job_files_show_as_failed_until_the_retention_time(queue, store):
    job_key, = store.new_keys("job")
    store.create(job_key, "job", b"not json")
    assert queue.gc()["removed_jobs"] == 0
    assert queue.jobs()[0]["status"] == "failed"
    assert queue.gc(now=time.time() + queue.timing.retention + 60)["removed_jobs"] == 1
    assert store.list() == []


def test_old_leftovers_of_removed_jobs_are_removed(queue, store):
    old_key, new_key = store.new_keys("output", 2)
    gone_job, = store.new_keys("job")
    for key in (old_key, new_key):
        store.create(key, "output", OutputRecord(job=gone_job, claim="c", attempt=1, segment=1, time=1.0).to_bytes())
    age(store, old_key, queue.timing.retention + 60)  # the time inside a file tells nothing: its writer's clock
    kept = queue.submit("lines", {"text": "x"})
    report = queue.gc()
    assert report["removed_jobs"] == 0 and report["removed_files"] == 1
    assert {entry.key for entry in store.list("output")} == {new_key}
    assert queue.status(kept)["status"] == "queued"


def push_bytes(store, tmp_path, name, data=b"weights"):
    local = tmp_path / "upload"
    local.write_bytes(data)
    return files.push(store, local, name)


def test_scratch_files_of_jobs_that_ended_or_vanished_and_results_of_vanished_jobs_are_removed(
        queue, store, tmp_path):
    request = {"text": "tales"}
    ended = queue.submit("note", request).split(".")[0]
    waiting = queue.submit("note", request).split(".")[0]
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        worker.claim_next(kinds={"note"}).complete()
    gone, = store.new_keys("job")
    for key in (ended, waiting, gone):
        push_bytes(store, tmp_path, files.scratch_name(key, "checkpoint.pt"))
    push_bytes(store, tmp_path, files.result_name(ended, "out.txt"))
    push_bytes(store, tmp_path, files.result_name(gone, "out.txt"))
    push_bytes(store, tmp_path, "models/tales.pt")
    report = queue.gc()
    assert report["removed_scratch"] == 2 and report["removed_jobs"] == 0
    assert {f.name for f in files.stored_files(store)} == {
        files.result_name(ended, "out.txt"), files.scratch_name(waiting, "checkpoint.pt"), "models/tales.pt"}
    assert len(store.list("blob")) == 3  # the removed files' contents went with them


def test_blobs_no_record_names_are_removed_once_older_than_the_retention(queue, store, tmp_path):
    kept = push_bytes(store, tmp_path, "corpora/tales.txt")
    orphan, newer_version, newer_record = store.new_keys("blob", 2) + store.new_keys("file")
    store.create(orphan, "blob", b"half a push")
    store.create(newer_version, "blob", b"a newer program's file")
    store.create(newer_record, "file", json.dumps({"v": 2, "type": "file", "blob": newer_version}).encode())
    assert queue.gc()["removed_blobs"] == 0
    assert queue.gc(now=time.time() + queue.timing.retention + 60)["removed_blobs"] == 1
    assert {entry.key for entry in store.list("blob")} == {kept.blob, newer_version}
    assert files.find(store, "corpora/tales.txt") == kept


def test_remove_takes_every_version_of_a_pushed_file(store, tmp_path):
    push_bytes(store, tmp_path, "notes.txt", b"one")
    push_bytes(store, tmp_path, "notes.txt", b"two")
    assert files.remove(store, "notes.txt") == 1  # pushing again replaced the older version
    assert store.list() == []
    assert files.remove(store, "notes.txt") == 0
    with pytest.raises(InvalidKey):
        files.remove(store, "../notes.txt")


def messy_queue(store, timing, tmp_path):
    """A queue with something of everything gc removes or fails, and things it must keep: what
    should go is made old by the folder's clock, as gc judges."""
    queue = Queue(store, timing, kinds=BY_NAME)
    for _ in range(3):
        finished_job(queue)
    waiting = []
    for _ in range(3):
        key, = store.new_keys("job")
        claim_key, cancel_key, segment_key = (store.new_keys(name)[0] for name in ("claim", "cancel", "segment"))
        record = JobRecord(kind="lines", payload=LINES.validate({"text": "x"}), secret_hash="0" * 64,
                           created=time.time(), claim_key=claim_key, cancel_key=cancel_key,
                           next_segment_key=segment_key)
        store.create(key, "job", record.to_bytes())
        waiting.append(key)
    for _ in range(2):
        queue.worker(host="h", device="cpu", offers=["default"], background=False).open()  # then died
    gone_job, = store.new_keys("job")
    leftover, = store.new_keys("output")
    store.create(leftover, "output", OutputRecord(job=gone_job, claim="c", attempt=1, segment=1, time=1.0).to_bytes())
    store.create(store.new_keys("blob")[0], "blob", b"half a push")
    for entry in store.list():
        age(store, entry.key, 2 * timing.max_queue_wait)
    note = queue.submit("note", {"text": "tales"}).split(".")[0]
    push_bytes(store, tmp_path, files.scratch_name(note, "checkpoint.pt"))  # its job waits: kept
    push_bytes(store, tmp_path, files.scratch_name(gone_job, "checkpoint.pt"))
    push_bytes(store, tmp_path, "corpora/tales.txt")
    return waiting


def _gc_in_a_process(url, timing, barrier, results):
    queue = Queue(open_store(url), timing, kinds=BY_NAME)
    barrier.wait()
    results.put(queue.gc())


def test_several_processes_can_run_gc_at_once(store, tmp_path):
    timing = Timing(lease=1.0, heartbeat=0.1, poll=0.05, check=0.02, retention=3600.0, max_queue_wait=10 * 3600.0)
    waiting = messy_queue(store, timing, tmp_path)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_gc_in_a_process, args=(store.url, timing, barrier, results))
             for _ in range(4)]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert sum(report["failed_waiting"] for report in reports) == len(waiting)  # each by exactly one
    names = Counter(entry.name for entry in store.list())
    # the waiting jobs (failed, each with the one claim and output that says so), the waiting
    # note job, its checkpoint and the corpus: nothing else
    assert names == {"job": len(waiting) + 1, "claim": len(waiting), "output": len(waiting), "file": 2, "blob": 2}
    queue = Queue(store, timing, kinds=BY_NAME)
    for key in waiting:
        view = queue.reader.view(key)
        assert view.state is JobState.FAILED and "no worker took the job" in view.error
    assert all(count == 0 for count in queue.gc().values())


class PausingStore(LocalStore):
    """A second handle on a local store that runs ``meanwhile`` right after reading ``key``."""

    def __init__(self, root, key, meanwhile):
        super().__init__(root)
        self.pause_at, self.meanwhile = key, meanwhile

    def read(self, key, *limit):
        data = super().read(key, *limit)
        if key == self.pause_at:
            self.pause_at = None
            self.meanwhile()
        return data


def test_a_gc_that_reads_a_job_another_gc_is_removing_leaves_nothing_behind(queue, store, fast_timing):
    job_key = finished_job(queue).split(".")[0]
    now = time.time() + fast_timing.retention + fast_timing.max_queue_wait
    # this gc reads the job file, then the other removes the job whole: the claims it
    # goes on to read are gone, so the job looks like one that waited far too long
    racing = PausingStore(store.root, job_key, lambda: Queue(store, fast_timing, kinds=BY_NAME).gc(now=now))
    report = Queue(racing, fast_timing, kinds=BY_NAME).gc(now=now)
    assert report["failed_waiting"] == 0
    assert store.list() == []
