"""Retention and waiting limits: ``Queue.gc``."""

from __future__ import annotations

import time

from drivequeue.records import OutputRecord

DAY = 24 * 3600.0


def finished_story(queue):
    job_id = queue.submit("story", {"seed": "x", "lines": 1})
    with queue.worker(host="h", device="cpu", models=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["line"])
        claim.complete()
    queue.continue_job(job_id, {"lines": 1})
    queue.cancel(job_id)
    return job_id


def test_finished_jobs_are_kept_until_the_retention_time_then_removed_whole(queue, store):
    job_id = finished_story(queue)
    assert queue.gc()["removed_jobs"] == 0
    assert queue.status(job_id)["status"] == "cancelled"
    report = queue.gc(now=time.time() + queue.timing.retention + 60)
    assert report["removed_jobs"] == 1
    assert store.list() == []


def test_running_jobs_are_neither_removed_nor_failed(queue, store):
    first = queue.submit("story", {"seed": "x"})
    second = queue.submit("story", {"seed": "y"})
    with queue.worker(host="h", device="cpu", models=["default"]) as worker:
        worker.claim_next()
        worker.claim_next()  # both running now
        later = time.time() + queue.timing.retention + 60
        queue.gc(now=later)
        assert {queue.status(first)["status"], queue.status(second)["status"]} == {"running"}


def test_a_job_that_waited_too_long_for_a_worker_fails_with_the_reason(queue, other_queue):
    job_id = queue.submit("story", {"seed": "x", "model": "nobody-serves-this"})
    fresh = queue.submit("story", {"seed": "y"})
    now = time.time()
    assert queue.gc(now=now)["failed_waiting"] == 0
    report = queue.gc(now=queue.status(job_id)["created"] + queue.timing.max_queue_wait + 1)
    assert report["failed_waiting"] == 2
    status = other_queue.status(job_id)
    assert status["status"] == "failed" and "no worker took the job within 6 hours" in status["error"]
    assert other_queue.status(fresh)["status"] == "failed"
    with other_queue.worker(host="h", device="cpu", models=["default", "nobody-serves-this"]) as worker:
        assert worker.claim_next() is None


def test_heartbeat_files_of_long_dead_workers_are_removed(queue, store):
    dead = queue.worker(host="h", device="cpu", models=["default"], background=False)
    dead.open()
    assert queue.gc()["removed_workers"] == 0
    assert queue.gc(now=time.time() + queue.timing.retention + 60)["removed_workers"] == 1
    assert store.list("worker") == []


def test_unreadable_job_files_and_old_leftovers_are_removed(queue, store):
    job_key, = store.new_keys("job")
    store.create(job_key, "job", b"not json")
    old_key, new_key = store.new_keys("output", 2)
    gone_job, = store.new_keys("job")
    store.create(old_key, "output", OutputRecord(job=gone_job, claim="c", attempt=1, segment=1, time=1.0).to_bytes())
    store.create(new_key, "output", OutputRecord(job=gone_job, claim="c", attempt=1, segment=1,
                                                 time=time.time()).to_bytes())
    kept = queue.submit("story", {"seed": "x"})
    report = queue.gc()
    assert report["removed_jobs"] == 1 and report["removed_files"] == 1
    assert {entry.key for entry in store.list("output")} == {new_key}
    assert queue.status(kept)["status"] == "queued"
