"""What a resumed story reads: seed and written lines, newline separated, so that with a fixed
random seed it goes on exactly as if it had never stopped."""

from drivequeue import Queue, Timing, open_store
from tests.colab_worker.worker_support import run_worker


def test_a_continued_story_goes_on_as_if_uninterrupted(tmp_path):
    queue = Queue(open_store(str(tmp_path / "queue")), Timing(lease=3.0, heartbeat=0.2, poll=0.1, check=0.1))
    knobs = {"seed": "The king had three sons.", "random_seed": 1234}
    whole = queue.submit("story", {**knobs, "lines": 6})
    halves = queue.submit("story", {**knobs, "lines": 3})
    run_worker(queue, tmp_path, max_jobs=2)
    queue.continue_job(halves, {"lines": 3})  # a fresh batch reads the seed and the 3 lines written
    run_worker(queue, tmp_path, max_jobs=1)
    assert queue.status(halves)["lines"] == queue.status(whole)["lines"]
    assert queue.status(halves)["line_count"] == 6
