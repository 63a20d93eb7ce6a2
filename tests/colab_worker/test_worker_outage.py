"""A store outage at the very moment a job ends: the worker retries the ending with its
backoff, and the job gets the ending it earned on its first attempt."""

import logging

from colab_worker import generation
from drivequeue import Queue, Timing
from drivequeue import files as pushed_files
from tests.colab_worker.test_train_job import tiny_corpus
from tests.colab_worker.worker_support import run_worker
from tests.drivequeue.outage import OutageStore, output_state

TIMING = Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1, backoff_max=0.3)


def refuse_first(times: int, state: str):
    """An outage that refuses the first ``times`` writes of an output saying ``state``."""
    refused = []

    def outage(method, key, data):
        if output_state(data) == state and len(refused) < times:
            refused.append(key)
            return True
        return False

    return outage


def test_a_story_whose_completion_meets_an_outage_is_completed_on_its_first_attempt(tmp_path, caplog):
    store = OutageStore(tmp_path / "queue")
    queue = Queue(store, TIMING)
    job = queue.submit("story", {"seed": "The wolf and the seven goats", "lines": 3})
    store.outage = refuse_first(3, "done")
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=1)
    status = queue.status(job)
    assert status["status"] == "done" and status["attempt"] == 1 and status["line_count"] == 3
    assert store.refused == 3
    assert "its end is not written yet" in caplog.text
    assert f"story {job.split('.')[0]} done after 3 lines" in caplog.text


def test_a_crash_that_meets_an_outage_is_recorded_once_the_store_is_back(tmp_path, monkeypatch):
    def broken_step(self):
        raise RuntimeError("CUDA error: device-side assert triggered")

    monkeypatch.setattr(generation.StoryBatch, "step", broken_step)
    store = OutageStore(tmp_path / "queue")
    queue = Queue(store, Timing(**{**vars(TIMING), "max_attempts": 1}))
    job = queue.submit("story", {"seed": "The wolf", "lines": 3})
    store.outage = refuse_first(2, "crashed")
    run_worker(queue, tmp_path, max_jobs=1)
    status = queue.status(job)
    assert status["status"] == "failed" and "device-side assert" in status["error"]
    assert store.refused == 2


def test_a_train_job_whose_completion_meets_an_outage_is_completed_on_its_first_attempt(tmp_path):
    store = OutageStore(tmp_path / "queue")
    queue = Queue(store, TIMING)
    tiny_corpus(tmp_path / "goats.txt")
    pushed_files.push(store, tmp_path / "goats.txt", "corpora/goats.txt")
    job = queue.submit("train", {"corpus": "corpora/goats.txt", "model": "goats", "steps": 20, "hidden_size": 32,
                                 "layers": 1, "seq_len": 32, "batch_size": 8})
    store.outage = refuse_first(2, "done")
    run_worker(queue, tmp_path, max_jobs=1)
    status = queue.status(job)
    assert status["status"] == "done" and status["attempt"] == 1
    assert "model 'goats' published" in status["lines"][-1]
    assert store.refused == 2
