"""The train handler trains with every option of the job's payload (a version 1 job as it was
trained then), and uploads its checkpoint at most every ``checkpoint_seconds`` (and on a stop),
however often training writes one locally."""

from __future__ import annotations

import dataclasses

import torch

from colab_worker.checkpoint import load_model
from colab_worker.config import WorkerConfig
from colab_worker.model_shelf import ModelShelf
from colab_worker.serving import serve_queue
from colab_worker.vocab import Vocab
from drivequeue import LocalStore, Queue, files
from drivequeue.metered_store import MeteredStore
from drivequeue.shutdown import Shutdown
from tests.colab_worker.test_train import NOT_DEFAULTS, options_of
from tests.colab_worker.test_train_job import tiny_corpus


#: 40 steps: an evaluation, and so a local checkpoint, every 4 steps
FORTY_STEPS = {"steps": 40, "hidden_size": 32, "layers": 1, "seq_len": 16, "batch_size": 4, "random_seed": 1}


def run_train_job(tmp_path, fast_timing, checkpoint_seconds: float = 3600, options: dict = FORTY_STEPS
                  ) -> tuple[int, dict, MeteredStore]:
    """(files the job streamed into the queue, its final status, the queue's store)"""
    store = MeteredStore(LocalStore(tmp_path / "queue"))
    queue = Queue(store, fast_timing)
    tiny_corpus(tmp_path / "goats.txt")
    files.push(store, tmp_path / "goats.txt", "goats.txt")
    pushed = store.operations["upload"]
    job_id = queue.submit("train", {"corpus": "goats.txt", "model": "goats", **options})
    config = dataclasses.replace(WorkerConfig(), device="cpu", cache_dir=tmp_path / "cache",
                                 checkpoint_seconds=checkpoint_seconds)
    shelf = ModelShelf(store, config.cache_dir, torch.device("cpu"))
    with Shutdown() as stop:
        serve_queue(queue, shelf, config, torch.device("cpu"), "cpu", stop, max_jobs=1)
    return store.operations["upload"] - pushed, queue.status(job_id), store


def published(store, tmp_path):
    files.pull(store, "models/goats.pt", tmp_path / "published.pt")
    return load_model(tmp_path / "published.pt")


def test_every_option_of_a_train_job_reaches_the_model_it_trains(tmp_path, fast_timing):
    _, status, store = run_train_job(tmp_path, fast_timing, options=NOT_DEFAULTS)
    assert status["status"] == "done", status
    assert options_of(published(store, tmp_path)) == NOT_DEFAULTS


def test_a_version_1_train_job_trains_the_character_model_it_asked_for(tmp_path, fast_timing):
    _, status, store = run_train_job(tmp_path, fast_timing, options={"v": 1, **FORTY_STEPS, "steps": 4})
    assert status["status"] == "done", status
    model = published(store, tmp_path)
    assert isinstance(model.vocab, Vocab) and model.metadata["train_config"]["clean"] is False
    assert model.config.embedding_dim == 64 and not model.config.tie_embeddings
    assert model.config.hidden_size == 32 and model.metadata["train_config"]["max_steps"] == 4


def test_checkpoints_are_uploaded_at_most_once_per_interval(tmp_path, fast_timing):
    uploads, status, _ = run_train_job(tmp_path, fast_timing, checkpoint_seconds=3600)
    assert status["status"] == "done", status
    assert sum(" val " in line for line in status["lines"]) >= 5  # five evaluations or more...
    assert uploads == 2  # ...but one checkpoint upload, and the published model


def test_with_no_interval_every_local_checkpoint_is_uploaded(tmp_path, fast_timing):
    uploads, status, _ = run_train_job(tmp_path, fast_timing, checkpoint_seconds=0)
    assert status["status"] == "done", status
    assert uploads >= 1 + 5
