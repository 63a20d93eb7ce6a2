"""Failure handling: a crashing job is retried then failed while the worker goes on, bad
jobs and bad models fail with a reason, and a store outage is waited out."""

import logging
import threading
import time

from colab_worker import generation
from colab_worker.model_shelf import published_name
from drivequeue import Queue, Timing, open_store
from drivequeue import files as pushed_files
from drivequeue.records import JobRecord
from tests.colab_worker.worker_support import run_worker

TIMING = Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1, backoff_max=0.3, max_attempts=3)


def new_queue(tmp_path) -> Queue:
    return Queue(open_store(str(tmp_path / "queue")), TIMING)


def test_a_crashing_story_is_retried_then_failed_and_the_worker_goes_on(tmp_path, monkeypatch, caplog):
    add = generation.StoryBatch.add

    def add_or_break(self, story_id, text, params, sentences=None):
        if "poison" in text:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return add(self, story_id, text, params, sentences)

    monkeypatch.setattr(generation.StoryBatch, "add", add_or_break)
    queue = new_queue(tmp_path)
    poison = queue.submit("story", {"seed": "A poison apple", "lines": 2})
    fine = queue.submit("story", {"seed": "A red apple", "lines": 2})
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=TIMING.max_attempts + 1)
    failed = queue.status(poison)
    assert failed["status"] == "failed"
    assert "illegal memory access" in failed["error"]
    assert failed["attempt"] == TIMING.max_attempts
    assert queue.status(fine)["status"] == "done"
    assert caplog.text.count("crashed: RuntimeError") == TIMING.max_attempts


def test_bad_jobs_are_failed_and_newer_versions_left_waiting(tmp_path, caplog):
    queue = new_queue(tmp_path)
    unreadable = queue.store.new_keys("job")[0]
    queue.store.create(unreadable, "job", b"{ this is not json")
    newer = queue.store.new_keys("job")[0]  # written by a newer program, payload version 99
    claim_key, cancel_key, segment_key = (queue.store.new_keys(name)[0] for name in ("claim", "cancel", "segment"))
    record = JobRecord(kind="story", payload={"v": 99, "seed": "The king"}, secret_hash="0" * 64,
                       created=time.time(), claim_key=claim_key, cancel_key=cancel_key,
                       next_segment_key=segment_key)
    queue.store.create(newer, "job", record.to_bytes())
    out_of_range = queue.store.new_keys("job")[0]
    claim_key, cancel_key, segment_key = (queue.store.new_keys(name)[0] for name in ("claim", "cancel", "segment"))
    record = JobRecord(kind="story", payload={"v": 1, "seed": "The king", "lines": 10**6}, secret_hash="0" * 64,
                       created=time.time(), claim_key=claim_key, cancel_key=cancel_key,
                       next_segment_key=segment_key)
    queue.store.create(out_of_range, "job", record.to_bytes())
    fine = queue.submit("story", {"seed": "The king", "lines": 1})
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=1)
    assert queue.status(fine)["status"] == "done"
    summaries = {job["key"]: job for job in queue.jobs()}
    assert summaries[unreadable]["status"] == "failed"
    # a newer program's job waits for a newer worker: never claimed, never failed by this one
    assert summaries[newer]["status"] == "queued" and summaries[newer]["waiting_for"] == "story v99"
    assert queue.reader.view(newer).claims == []
    assert summaries[out_of_range]["status"] == "failed" and "lines must be" in summaries[out_of_range]["error"]
    assert f"failing job {out_of_range}" in caplog.text
    assert not queue.store.exists(queue.reader.view(out_of_range).claims[0].next_claim_key)  # claimed once


def test_a_story_asking_for_a_broken_model_fails_with_the_reason(tmp_path):
    queue = new_queue(tmp_path)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    pushed_files.push(queue.store, junk, published_name("broken"))
    job = queue.submit("story", {"seed": "The king", "lines": 1, "model": "broken"})
    run_worker(queue, tmp_path, max_jobs=1)
    status = queue.status(job)
    assert status["status"] == "failed"
    assert "model 'broken' cannot be loaded" in status["error"]


def test_a_store_outage_is_waited_out(tmp_path, monkeypatch, caplog):
    """Nothing can be written to the folder for a second (its temporary-file area is
    blocked, as when a disk is full): the worker backs off, keeps its lines, and goes on."""
    queue = new_queue(tmp_path)
    job = queue.submit("story", {"seed": "The wolf and the seven goats", "lines": 12})
    tmp_area = tmp_path / "queue" / ".tmp"
    step = generation.StoryBatch.step
    outage: list[threading.Timer] = []

    def end_outage():
        tmp_area.unlink()
        (tmp_path / "tmp-away").rename(tmp_area)

    def step_then_block_writes(self):
        """Once two lines are stored, block writes before the next one: it meets the outage."""
        lines = step(self)
        if not outage and queue.status(job)["line_count"] >= 2:
            tmp_area.rename(tmp_path / "tmp-away")
            tmp_area.write_bytes(b"")  # a file where the folder was: every write fails
            outage.append(threading.Timer(1.0, end_outage))  # shorter than the lease
            outage[0].start()
        return lines

    monkeypatch.setattr(generation.StoryBatch, "step", step_then_block_writes)
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=1)
    outage[0].join()
    status = queue.status(job)
    assert status["status"] == "done"
    assert status["line_count"] == 12
    assert "queue store unavailable" in caplog.text
