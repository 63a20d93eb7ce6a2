"""Workers run the queue's gc themselves: as they start, then every ``gc_interval``."""

import logging

from drivequeue import Queue, Timing, files, open_store
from drivequeue.records import OutputRecord
from tests.colab_worker.worker_support import run_worker
from tests.helpers import age


def test_a_worker_collects_garbage_as_it_starts(tmp_path, caplog):
    queue = Queue(open_store(str(tmp_path / "queue")), Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1))
    store = queue.store
    gone_job, = store.new_keys("job")
    leftover, = store.new_keys("output")
    store.create(leftover, "output", OutputRecord(job=gone_job, claim="c", attempt=1, segment=1, time=1.0).to_bytes())
    age(store, leftover, queue.timing.retention + 60)
    (tmp_path / "checkpoint.pt").write_bytes(b"weights")
    files.push(store, tmp_path / "checkpoint.pt", files.scratch_name(gone_job, "checkpoint.pt"))
    job = queue.submit("story", {"seed": "The king", "lines": 1})
    with caplog.at_level(logging.INFO):
        run_worker(queue, tmp_path, max_jobs=1)
    assert queue.status(job)["status"] == "done"
    assert not store.exists(leftover)
    assert files.stored_files(store) == [] and store.list("blob") == []
    assert "gc: removed files: 1, removed scratch: 1" in caplog.text


def test_a_gc_interval_of_zero_leaves_gc_to_the_operator(tmp_path):
    queue = Queue(open_store(str(tmp_path / "queue")),
                  Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1, gc_interval=0))
    leftover, = queue.store.new_keys("output")
    gone_job, = queue.store.new_keys("job")
    queue.store.create(leftover, "output",
                       OutputRecord(job=gone_job, claim="c", attempt=1, segment=1, time=1.0).to_bytes())
    queue.submit("story", {"seed": "The king", "lines": 1})
    run_worker(queue, tmp_path, max_jobs=1)
    assert queue.store.exists(leftover)
