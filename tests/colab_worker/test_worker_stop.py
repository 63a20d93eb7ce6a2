"""Warm stop: SIGTERM finishes every story's current line, gives the jobs back at once, exits 0;
a reader's stop ends a story at the lines they saw and the one being written."""

from tests.colab_worker.worker_support import WorkerProcess, follow, queue_env, queue_for, run_worker

#: a lease far longer than the test may take: a job that waited for it would time the test out
LONG_LEASE = "600"


def test_sigterm_finishes_current_lines_and_releases_the_claims(tmp_path):
    env = queue_env(tmp_path, DRIVEQUEUE_LEASE=LONG_LEASE)
    queue = queue_for(env)
    seeds = ("The wolf", "A little bird sang", "The queen said")
    ids = [queue.submit("story", {"seed": seed, "lines": 20}) for seed in seeds]
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        before = {job_id: follow(queue, job_id, lambda s: s["line_count"] >= 2)["line_count"] for job_id in ids}
        first.signal()
        assert first.wait() == 0
    finally:
        first.stop()
    assert first.log.count("released after") == 3
    assert queue.workers() == []  # the heartbeat file is gone
    after = {job_id: queue.status(job_id) for job_id in ids}
    for job_id in ids:
        assert after[job_id]["status"] == "queued"
        assert before[job_id] < after[job_id]["line_count"] < 20  # the line in progress was finished

    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        final = {job_id: follow(queue, job_id, lambda s: s["status"] == "done") for job_id in ids}
    finally:
        second.signal()
        assert second.wait() == 0
    for job_id in ids:
        assert final[job_id]["line_count"] == 20
        assert final[job_id]["lines"][: after[job_id]["line_count"]] == after[job_id]["lines"]
        assert final[job_id]["attempt"] == 1  # a released claim does not use up an attempt


def test_a_cancel_with_seen_ends_the_story_at_the_lines_seen_and_one_more(tmp_path):
    env = queue_env(tmp_path)
    queue = queue_for(env)
    job_id = queue.submit("story", {"seed": "The wolf", "lines": 100})

    def reader():
        reader = queue_for(env)
        seen = follow(reader, job_id, lambda s: s["line_count"] >= 3)["lines"][:2]
        reader.cancel(job_id, {"seen": 2})
        return seen, follow(reader, job_id, lambda s: s["status"] == "cancelled" and not s["stopping"])

    seen, final = run_worker(queue, tmp_path, max_jobs=1, alongside=reader)
    assert final["line_count"] == 3 and final["lines"][:2] == seen
