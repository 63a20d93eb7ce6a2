"""The worker runs unchanged on a Google Drive queue (the offline Drive emulator, through
the real client library), where line writes are coalesced."""

from drivequeue import Queue, Timing, open_store
from tests.colab_worker.worker_support import WorkerProcess, follow, queue_env


def test_worker_writes_stories_into_a_drive_folder(drive_env, tmp_path):
    url = f"drive://id:{drive_env.create_folder('stories')}"
    env = queue_env(tmp_path, DRIVEQUEUE_URL=url)  # carries the emulator's endpoint and token
    store = open_store(url)
    queue = Queue(store, Timing.from_env(store.default_timing, env))
    assert queue.timing.flush > 0  # lines are coalesced into at most one write per flush interval
    ids = [queue.submit("story", {"seed": seed, "lines": 4}) for seed in ("The miller", "A frog")]
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        done = [follow(queue, job_id, lambda s: s["status"] not in ("queued", "running")) for job_id in ids]
    finally:
        worker.signal()
        assert worker.wait() == 0
    for status in done:
        assert status["status"] == "done" and status["line_count"] == 4
    assert f"from {url}" in worker.log
    assert queue.workers() == []
