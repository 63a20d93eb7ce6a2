"""Corrupt or foreign files fail their job with a reason; workers and readers carry on."""

from __future__ import annotations

import json

import pytest

from drivequeue import Queue
from drivequeue.job_ids import hash_secret, make_job_id, new_secret
from drivequeue.records import JobRecord, decode

from tests.helpers import age, eventually

from .lines_plugin import BY_NAME


def plant_job(queue, store, change=None, raw_bytes=None):
    """Write a job file by hand; returns its public id."""
    key, = store.new_keys("job")
    secret = new_secret()
    claim, cancel, segment = (store.new_keys(name)[0] for name in ("claim", "cancel", "segment"))
    record = JobRecord(kind="lines", payload={"v": 1, "text": "x", "count": 1}, secret_hash=hash_secret(secret),
                       created=0.0, claim_key=claim, cancel_key=cancel, next_segment_key=segment)
    raw = decode(record.to_bytes())
    raw.update(change or {})
    store.create(key, "job", raw_bytes if raw_bytes is not None else json.dumps(raw).encode())
    return make_job_id(key, secret)


BAD_JOBS = {
    "invalid JSON": (None, b"{not json", "corrupt job file: the file is not valid JSON"),
    "bad UTF-8": (None, b"\xff\xfe{}", "corrupt job file"),
    "not an object": (None, b"[1, 2]", "corrupt job file"),
    "unknown protocol": ({"v": 2}, None, "unknown protocol version 2"),
    "payload out of range": ({"payload": {"v": 1, "text": "x", "count": 10**9}}, None, "count must be"),
    "missing field": ({"claim_key": None}, None, "claim_key"),
}


@pytest.mark.parametrize("case", sorted(BAD_JOBS))
def test_a_bad_job_file_fails_that_job_and_workers_go_on(queue, other_queue, store, case):
    change, raw_bytes, reason = BAD_JOBS[case]
    bad = plant_job(queue, store, change, raw_bytes)
    good = queue.submit("lines", {"text": "fine", "count": 1})
    status = queue.status(bad)
    assert status["status"] == "failed" and reason in status["error"]
    with other_queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        assert claim is not None and claim.job_key == good.split(".")[0]
        claim.append(["ok"])
        claim.complete()
        assert worker.claim_next() is None
    assert queue.status(good)["status"] == "done"
    listed = {job["key"]: job for job in queue.jobs()}
    assert listed[bad.split(".")[0]]["status"] == "failed"
    assert queue.status(bad)["status"] == "failed"


def test_a_worker_records_the_failure_so_every_reader_agrees(queue, other_queue, store):
    bad = plant_job(queue, store, {"payload": {"v": 1, "text": "x", "count": 10**9}})
    with other_queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        assert worker.claim_next() is None
    # the failure is now a file that every reader sees
    outputs = [decode(store.read(entry.key)) for entry in store.list("output")]
    assert [(o["state"], o["error"]) for o in outputs] == [("failed", "count must be a whole number from 1 to 20")]
    assert queue.status(bad)["status"] == "failed"


@pytest.mark.parametrize("change, waits_for", [
    ({"kind": "paint", "payload": {"v": 1}}, "paint v1"),
    ({"payload": {"v": 9, "text": "x"}}, "lines v9"),
])
def test_a_kind_or_version_nobody_here_serves_waits_unclaimed_until_gc_fails_it(
        queue, other_queue, store, change, waits_for):
    """A newer producer's job is left for a newer worker: never claimed or failed by this one."""
    waiting = plant_job(queue, store, change)
    with other_queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        assert worker.claim_next() is None
    assert store.list("claim") == [] and store.list("output") == []
    status = queue.status(waiting)
    assert status["status"] == "queued" and status["waiting_for"] == waits_for
    age(store, waiting.split(".")[0], queue.timing.max_queue_wait + 60)  # by the folder's clock
    assert queue.gc()["failed_waiting"] == 1
    status = queue.status(waiting)
    assert status["status"] == "failed" and f"none serves {waits_for}" in status["error"]


def _job_with_two_segments(queue):
    job_id = queue.submit("lines", {"text": "x", "count": 2})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["1", "2"])
        claim.complete()
        queue.continue_job(job_id, {"count": 1})
        claim = worker.claim_next()
        claim.append(["3"])
        claim.complete()
    return job_id


@pytest.mark.parametrize("name", ["claim", "segment"])
def test_a_corrupt_claim_or_segment_file_fails_the_job(queue, store, name):
    job_id = _job_with_two_segments(queue)
    for entry in store.list(name):
        store.write(entry.key, b"\x00garbage")
        fresh = Queue(store, queue.timing, kinds=BY_NAME)
        status = fresh.status(job_id)
        assert status["status"] == "failed" and f"corrupt {name} file" in status["error"]
        with fresh.worker(host="h", device="cpu", offers=["default"]) as worker:
            assert worker.claim_next() is None
        assert fresh.jobs()[0]["status"] == "failed"


def test_a_corrupt_output_costs_one_attempt_and_the_job_is_redone_from_the_last_good_output(queue, store):
    job_id = _job_with_two_segments(queue)
    view = queue.reader.view(job_id.split(".")[0])
    store.write(view.newest_claim.output_key, b"\x00garbage")
    fresh = Queue(store, queue.timing, kinds=BY_NAME)
    assert fresh.status(job_id)["status"] == "queued"
    with fresh.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        assert claim.attempt == 2 and claim.lines == ["1", "2"] and claim.remaining == 1
        claim.append(["3 again"])
        claim.complete()
    assert fresh.status(job_id)["lines"] == ["1", "2", "3 again"]


def test_a_job_file_with_a_wrong_secret_hash_is_not_found(queue, store):
    job_id = plant_job(queue, store, {"secret_hash": "0" * 64})
    with pytest.raises(Exception, match="no such job"):
        queue.status(job_id)


def test_a_foreign_heartbeat_file_does_not_break_the_registry(queue, store):
    key, = store.new_keys("worker")
    store.create(key, "worker", b"{}")
    assert queue.workers() == []
    other, = store.new_keys("worker")
    store.create(other, "worker", json.dumps({"v": 7, "type": "worker", "id": "future", "host": "h",
                                              "device": "tpu", "models": [], "kinds": [], "version": "9",
                                              "started": 0, "beat": 1, "time": 0, "claims": [],
                                              "state": "idle"}).encode())
    entry, = eventually(queue.workers)
    assert entry["protocol"] == 7 and entry["online"] is False


def test_a_continue_this_program_cannot_read_is_failed_once(queue, store):
    job_id = queue.submit("lines", {"text": "x", "count": 1})
    with queue.worker(host="h", device="cpu", offers=["default"]) as worker:
        claim = worker.claim_next()
        claim.append(["1"])
        claim.complete()
        queue.continue_job(job_id, {"count": 1})
        segment = store.list("segment")[0].key
        raw = decode(store.read(segment))
        raw["payload"]["v"] = 5  # a continue written by a newer producer
        store.write(segment, json.dumps(raw).encode())
        fresh = Queue(store, queue.timing, kinds=BY_NAME)
        assert "unknown lines payload version 5" in fresh.status(job_id)["error"]
        with fresh.worker(host="h", device="cpu", offers=["default"]) as other:
            assert other.claim_next() is None
            assert other.claim_next() is None
    assert len(store.list("claim")) == 2  # the first run, and the one that recorded the failure
    assert fresh.status(job_id)["status"] == "failed" and fresh.status(job_id)["lines"] == ["1"]
