"""The train handler uploads its checkpoint at most every ``checkpoint_seconds`` (and on a
stop), however often training writes one locally."""

from __future__ import annotations

import dataclasses

import torch

from colab_worker.config import WorkerConfig
from colab_worker.model_shelf import ModelShelf
from colab_worker.serving import serve_queue
from drivequeue import LocalStore, Queue, files
from drivequeue.metered_store import MeteredStore
from drivequeue.shutdown import Shutdown
from tests.colab_worker.test_train_job import tiny_corpus


def run_train_job(tmp_path, fast_timing, checkpoint_seconds: float) -> tuple[int, dict]:
    """(files the job streamed into the queue, its final status)"""
    store = MeteredStore(LocalStore(tmp_path / "queue"))
    queue = Queue(store, fast_timing)
    tiny_corpus(tmp_path / "goats.txt")
    files.push(store, tmp_path / "goats.txt", "goats.txt")
    pushed = store.operations["upload"]
    # 40 steps: an evaluation, and so a local checkpoint, every 4 steps
    job_id = queue.submit("train", {"corpus": "goats.txt", "model": "goats", "steps": 40, "hidden_size": 32,
                                    "layers": 1, "seq_len": 16, "batch_size": 4, "random_seed": 1})
    config = dataclasses.replace(WorkerConfig(), device="cpu", cache_dir=tmp_path / "cache",
                                 checkpoint_seconds=checkpoint_seconds)
    shelf = ModelShelf(store, config.cache_dir, torch.device("cpu"))
    with Shutdown() as stop:
        serve_queue(queue, shelf, config, torch.device("cpu"), "cpu", stop, max_jobs=1)
    return store.operations["upload"] - pushed, queue.status(job_id)


def test_checkpoints_are_uploaded_at_most_once_per_interval(tmp_path, fast_timing):
    uploads, status = run_train_job(tmp_path, fast_timing, checkpoint_seconds=3600)
    assert status["status"] == "done", status
    assert sum(" val " in line for line in status["lines"]) >= 5  # five evaluations or more...
    assert uploads == 2  # ...but one checkpoint upload, and the published model


def test_with_no_interval_every_local_checkpoint_is_uploaded(tmp_path, fast_timing):
    uploads, status = run_train_job(tmp_path, fast_timing, checkpoint_seconds=0)
    assert status["status"] == "done", status
    assert uploads >= 1 + 5
