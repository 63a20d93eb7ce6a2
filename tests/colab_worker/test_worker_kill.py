"""A worker SIGKILLed in the middle of a story loses nothing: the next worker resumes it."""

import signal

from tests.colab_worker.worker_support import WorkerProcess, follow, queue_env, queue_for


def test_story_resumes_after_sigkill_with_exactly_its_lines(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    job_id = queue.submit("story", {"seed": "The old miller had three sons", "lines": 20})
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        follow(queue, job_id, lambda s: s["line_count"] >= 3)
        first.signal(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL
    finally:
        first.stop()
    written = queue.status(job_id)["lines"]
    assert 3 <= len(written) < 20

    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        final = follow(queue, job_id, lambda s: s["status"] != "running" and s["status"] != "queued")
    finally:
        second.signal()
        assert second.wait() == 0
    assert final["status"] == "done"
    assert final["line_count"] == 20
    assert final["lines"][: len(written)] == written
    assert final["attempt"] == 2  # the vanished worker's attempt was used up
    assert f"resuming after line {len(written)}" in second.log
